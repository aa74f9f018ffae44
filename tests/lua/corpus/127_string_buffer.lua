local buf = {}
for i = 1, 1000 do buf[#buf + 1] = string.format("%04d", i) end
local s = table.concat(buf)
print(#s, s:sub(1, 8), s:sub(-8))
local count = select(2, s:gsub("0", "0"))
print(count)
print(#string.rep("abc", 10000))
