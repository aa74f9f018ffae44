print(pcall(error, "msg"))
print(pcall(error, "msg", 0))
print(pcall(function() error("with position") end))
print(pcall(function() error("no position", 0) end))
local function lvl2() error("blame caller", 2) end
print(pcall(function() lvl2() end))
print(pcall(error))
print(pcall(function() error() end))
print(pcall(function() error(nil) end))
