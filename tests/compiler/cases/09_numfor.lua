for i = 1, 10 do print(i) end
for i = 10, 1, -1 do print(i) end
for i = 1, 3, 0.5 do local x = i * 2 end
local n = 5
for i = n, n * 2 do
  for j = i, 1, -1 do
    print(i, j)
  end
end
for i = 1, 10 do
  local f = function() return i end
end
for i = 1, 2 do break end
