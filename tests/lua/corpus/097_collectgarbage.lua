local k = collectgarbage("count")
print(type(k), k > 0)
local t = {}
for i = 1, 10000 do t[i] = {i} end
local k2 = collectgarbage("count")
print(k2 > k)
t = nil
collectgarbage()
collectgarbage("collect")
local k3 = collectgarbage("count")
print(k3 < k2)
print(type(collectgarbage("step")))
print(type(collectgarbage("setpause", 200)), type(collectgarbage("setstepmul", 200)))
print(gcinfo() > 0)
