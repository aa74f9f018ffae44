-- __index runs only when the raw value is nil
local t = setmetatable({a = false}, {__index = function() return "meta" end})
print(t.a, t.b)
t.b = nil
print(t.b)
-- __index on strings
local mt = getmetatable("")
print(("abc").len == string.len, ("abc"):len())
