local P = {}
P.__tostring = function(p) return "Point(" .. p.x .. ")" end
local p = setmetatable({x = 3}, P)
print(p, tostring(p))
print((pcall(string.format, "%s", p)))
