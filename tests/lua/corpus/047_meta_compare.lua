local mt = {}
mt.__eq = function(a, b) return a.v == b.v end
mt.__lt = function(a, b) return a.v < b.v end
mt.__le = function(a, b) return a.v <= b.v end
local function new(v) return setmetatable({v = v}, mt) end
local a, b, c = new(1), new(2), new(1)
print(a == c, a ~= c, a == b, a < b, b < a, a <= c, b <= a, a > b, b >= a)
-- __eq is only consulted for two tables with the same metamethod
print(a == 1)
local other = setmetatable({v = 1}, {__eq = function() return true end})
print(a == other)
-- without __le, Lua 5.1 uses not (b < a)
local onlylt = {__lt = function(x, y) return x.v < y.v end}
local p, q = setmetatable({v = 1}, onlylt), setmetatable({v = 2}, onlylt)
print(p <= q, q <= p)
print(pcall(function() return {} < {} end))
