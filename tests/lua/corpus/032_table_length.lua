local t = {}
print(#t)
for i = 1, 100 do t[i] = i end
print(#t)
t[#t] = nil
print(#t)
t[#t + 1] = "x"
print(#t, t[100])
local s = {n = 1}
print(#s)
local g = {}
g[1] = 1; g[2] = 2; g[3] = 3
print(#g)
