local vals = {0, 1, -1, 0.5, 1e15, 1e16, 2^53, 1/3, -1e-7, 123.0, 1e100}
local out = {}
for _, v in ipairs(vals) do out[#out + 1] = v .. "" end
print(table.concat(out, " "))
out = {}
for _, v in ipairs(vals) do out[#out + 1] = tostring(v) end
print(table.concat(out, " "))
for _, v in ipairs(vals) do io.write(v, ",") end print()
