local i = 0
repeat i = i + 1 until i >= 5
print(i)
-- the until expression sees locals of the body
local n = 0
repeat
  local done = n >= 3
  n = n + 1
until done
print(n)
repeat local x = 1 until true
print("once")
