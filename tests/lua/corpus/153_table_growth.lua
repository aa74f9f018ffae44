local t = {}
for i = 1, 10000 do t[i] = i * 2 end
print(#t, t[5000], t[10000])
for i = 1, 10000, 2 do t[i] = nil end
local c = 0
for _ in pairs(t) do c = c + 1 end
print(c)
local h = {}
for i = 1, 5000 do h["k" .. i] = i end
local s = 0
for k, v in pairs(h) do s = s + v end
print(s, h.k2500)
for i = 1, 5000 do h["k" .. i] = nil end
print(next(h))
