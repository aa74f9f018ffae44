for i = 1, 10 do
  if i == 4 then break end
  io.write(i, " ")
end
print()
for i = 1, 3 do
  for j = 1, 3 do
    if j == 2 then break end
    io.write(i, j, " ")
  end
end
print()
local k = 0
repeat k = k + 1; if k == 7 then break end until false
print(k)
for _, v in ipairs({1, 2, 3}) do if v == 2 then break end print(v) end
