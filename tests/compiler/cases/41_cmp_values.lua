local a = 1
local b = a < 3
local c = a == 2
local d = not (a > 1)
local e = {a < 1, a > 1, a == 1}
print(a ~= 1, a >= 1)
local f = a < 3 and 1 or 0
local g = (a < 3) == (a > 5)
return a < 1
