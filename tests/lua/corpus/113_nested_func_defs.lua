local a = {b = {c = {}}}
function a.b.c.f(x) return x + 1 end
function a.b.c:m(x) return self == a.b.c, x end
print(a.b.c.f(1), a.b.c:m(5))
a.b.c.d = 9
print(a.b.c.d)
local t = {}
t.x, t.y = 1, 2
print(t.x + t.y)
