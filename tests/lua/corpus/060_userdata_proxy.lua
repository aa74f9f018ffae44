local p = newproxy(true)
local mt = getmetatable(p)
mt.__index = function(_, k) return "ud." .. k end
mt.__tostring = function() return "proxy" end
mt.__call = function(_, x) return x + 1 end
print(p.field, tostring(p), p(41))
local q = newproxy(p)
print(getmetatable(q) == mt)
print(newproxy() ~= nil, getmetatable(newproxy()))
