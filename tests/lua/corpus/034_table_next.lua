local t = {a = 1, b = 2, c = 3, 10, 20}
local count = 0
local k, v = next(t)
while k do count = count + 1; k, v = next(t, k) end
print(count)
print(next({}))
local keys = {}
for k, v in pairs(t) do keys[#keys + 1] = tostring(k) .. "=" .. v end
table.sort(keys)
print(table.concat(keys, " "))
-- assigning existing fields during traversal is allowed
for k in pairs(t) do t[k] = 0 end
local s = 0
for _, v in pairs(t) do s = s + v end
print(s)
for k in pairs(t) do t[k] = nil end
print(next(t))
