local t = {}
for i = 1, 10 do t[i] = i * 2 end
print(#t, t[5])
local s = ("abc"):rep(3):upper()
print(s:find("B", 1, true), string.format("%5.2f", 3.14159))
