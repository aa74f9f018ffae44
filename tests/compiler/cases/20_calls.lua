print()
print(1)
print(1, 2, 3)
print"str"
print[[long]]
print{1, 2}
local f = function(...) return ... end
f(1)(2)
f(f(1, 2))
f(1, f(2, 3))
f(f(), f())
local a, b, c = f(1, 2, 3)
local t = {f(1, 2, 3)}
local u = {f(1, 2, 3), 4}
local v = {(f(1, 2, 3))}
f.x = 1
f.y.z(1).w = 2
f[1](2)[3] = 4
