local bytes = {}
for i = 0, 255 do bytes[#bytes + 1] = string.char(i) end
local s = table.concat(bytes)
print(#s, s:byte(1), s:byte(256), s:byte(128))
local sum = 0
for i = 1, #s do sum = sum + s:byte(i) end
print(sum)
print(#s:upper(), s:upper():byte(98), s:lower():byte(66))
print(#s:gsub("%c", ""), #s:gsub("%w", ""), #s:gsub("%p", ""), #s:gsub("%s", ""))
