local a, b, c = "x", 2, 3.5
print(a .. b .. c .. "end")
print(1 .. "")
local parts = {}
for i = 1, 10 do parts[#parts + 1] = i .. "" end
print(table.concat(parts, "."))
local s = ""
for i = 1, 100 do s = s .. i % 10 end
print(#s, s:sub(1, 12))
print("a" .. "b" .. "c" .. "d" .. "e" .. "f" .. "g" .. "h" .. "i" .. "j")
print(2 .. 3 + 1)
