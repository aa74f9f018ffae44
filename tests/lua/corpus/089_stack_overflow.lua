local function inf(n) return 1 + inf(n + 1) end
local ok, e = pcall(inf, 1)
print(ok, type(e), (string.find(e, "stack overflow", 1, true)) ~= nil)
local mt = {}
mt.__index = function(t, k) return t[k] end
local ok2, e2 = pcall(function() return setmetatable({}, mt).x end)
print(ok2, (string.find(tostring(e2), "stack overflow", 1, true) or string.find(tostring(e2), "C stack overflow", 1, true)) ~= nil)
print("still running")
