local a, b, c
local x = a and b or c
x = x or {}
local y = not not a
local z = a or b and c
x = a or 1
x = a and 1
x = 1 or a
x = nil and a
x = a or nil
x = a and nil
local t = {}
t.v = a or b
t[a or b] = c and a
x = (a or b) == c
f(a or b, c and a)
return a or b
