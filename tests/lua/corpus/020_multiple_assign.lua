local a, b, c = 1, 2
print(a, b, c)
a, b = b, a
print(a, b)
local t = {}
local i = 1
i, t[i] = i + 1, 20
print(i, t[1], t[2])
local x, y, z = (function() return 1, 2, 3 end)()
print(x, y, z)
local p, q = (function() return 1, 2, 3 end)(), 10
print(p, q)
local function two() return "a", "b" end
local r = {two(), two()}
print(#r, r[1], r[2], r[3])
local s = {two(), (two())}
print(#s)
t = {1, 2, 3}
local n = 1
n, t[n] = 2, "x"
print(t[1], t[2])
