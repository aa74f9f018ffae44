local i = 0
while i < 10 do
  i = i + 1
end
while true do
  i = i - 1
  if i < 0 then break end
end
while i and i < 5 do i = i + 1 end
while not done do done = true end
while false do print(1) end
while nil do end
local j = 0
while j < 3 do
  local k = j
  j = j + 1
end
