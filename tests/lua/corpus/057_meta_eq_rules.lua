local calls = 0
local mt = {__eq = function(a, b) calls = calls + 1; return true end}
local a, b = setmetatable({}, mt), setmetatable({}, mt)
print(a == b, a == a, calls)
print(a ~= b, calls)
local c = setmetatable({}, {__eq = mt.__eq})
print(a == c, calls)
