print(string.len("abc"), #string.rep("ab", 3, nil))
print(("test"):len(), ("%d"):format(3))
print(tostring(string.dump ~= nil))
print(string.format("%s|%s", ("a,b,,c"):match("([^,]*),([^,]*)")))
local parts = {}
for field in ("a,b,,c"):gmatch("([^,]*)") do parts[#parts + 1] = "<" .. field .. ">" end
print(table.concat(parts))
print(("CamelCaseString"):gsub("(%u)", " %1"))
print(("%5"):gsub("%%", "pct"))
