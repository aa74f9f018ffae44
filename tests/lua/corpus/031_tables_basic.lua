local t = {1, 2, 3, x = "x", ["y z"] = 5, [10] = "ten"}
print(t[1], t.x, t["y z"], t[10], t[4])
t[1.0] = "one"
print(t[1])
t.x = nil
print(t.x)
local u = {[1] = "a", [2] = "b", "c"}
print(u[1], u[2])
local nested = {a = {b = {c = 42}}}
print(nested.a.b.c)
local k = {}
t[k] = "tablekey"
print(t[k])
t[true] = "bool"
print(t[true])
print(#{1, 2, 3; 4, 5})
local v = {n = 1,}
print(v.n)
