local function f() return 1, 2, 3 end
local a, b, c = f()
a, b, c = f()
a, b = f()
a, b, c, d = f()
a, b, c = 1, f()
a, b = 1, 2, 3
a, b = f(), f()
a = f(), 1
x, y = 1
x, y, z = ...
local p, q = ..., 1
