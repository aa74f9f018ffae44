local t = {}
t[0] = "zero"; t[-1] = "minus one"; t[1] = "one"; t[2] = "two"
print(#t, t[0], t[-1])
local keys = {}
for k in pairs(t) do keys[#keys + 1] = k end
table.sort(keys)
print(table.concat(keys, " "))
local u = {}
for i = 10, 1, -1 do u[i] = i end
print(#u)
local sum = 0
for i, v in ipairs(u) do sum = sum + v end
print(sum)
