-- arithmetic metamethods are found on either operand
local mt = {__add = function(a, b) return "add" end, __sub = function() return "sub" end}
local t = setmetatable({}, mt)
print(t + 1, 1 + t, "x" + t, t - t)
print(pcall(function() return {} + 1 end))
local m2 = {__unm = function(a) return "neg" end}
print(-setmetatable({}, m2))
