local a, b, c, d = 1, 2, 3, 4
while a and b or c do a = nil end
if (a or b) and (c or d) then print(1) end
if a and (b or c) and d then print(2) end
if not (a and b) then print(3) end
if not a or not b then print(4) end
local x = (a and b) or (c and d)
local y = a == b or c == d
local z = not (a == b)
local w = a and b == c
repeat a = a + 1 until a > 10 or b
if a then if b then if c then print(5) end end end
