for i = 1, 10 do
  local x = i
  local f = function() return x end
  if i > 5 then break end
end
while true do
  local a = 1
  do
    local b = 2
    local g = function() return a + b end
    break
  end
end
for i = 1, 3 do
  for j = 1, 3 do
    if j == 2 then break end
  end
  if i == 2 then break end
end
repeat
  local c = 3
  local h = function() return c end
  if c then break end
until false
