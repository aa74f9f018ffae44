local t = setmetatable({}, {__add = function(a, b) error("metamethod failed") end})
print("start")
local x = t + 1
