local function f() return 1, 2, 3 end
local t = {f(), f(), x = f(), [f()] = "k", f()}
print(#t, t[1], t[2], t[3], t[4], t[5], t.x)
local u = {[1] = "a", "b"}
print(u[1])
local v = {"a", "b", [2] = "c"}
print(v[2])
local w = {(f())}
print(#w)
local s = {n = nil, 1}
print(#s, s.n)
local big = {}
for i = 1, 60 do big[i] = "x" end
local src = "return {" .. table.concat(big, ",", 1, 60):gsub("x", "1") .. "}"
print(#loadstring(src)())
