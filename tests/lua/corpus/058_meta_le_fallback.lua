local log = {}
local mt = {__lt = function(a, b) log[#log + 1] = "lt"; return a.v < b.v end}
local x, y = setmetatable({v = 1}, mt), setmetatable({v = 1}, mt)
print(x <= y, x >= y, x < y)
print(table.concat(log, " "))
