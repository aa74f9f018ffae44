io.write("partial output\n")
local t = nil
print(t.field)
