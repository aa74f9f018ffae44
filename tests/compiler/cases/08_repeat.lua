local i = 0
repeat
  i = i + 1
until i >= 10
repeat
  local x = i
  i = i - 1
until x < 3
local fs = {}
repeat
  local y = i
  fs[#fs + 1] = function() return y end
  i = i + 1
until y > 12
repeat local z = 1 break until false
repeat until true
