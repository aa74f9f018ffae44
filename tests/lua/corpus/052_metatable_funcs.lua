local mt = {}
local t = setmetatable({}, mt)
print(getmetatable(t) == mt)
print(getmetatable({}))
print(getmetatable("abc").__index == string)
local locked = setmetatable({}, {__metatable = "locked"})
print(getmetatable(locked))
print(pcall(setmetatable, locked, {}))
print(setmetatable(t, nil) == t, getmetatable(t))
