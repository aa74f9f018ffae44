print(xpcall(function() return "fine", 2 end, print))
print(xpcall(function() error("bad") end, function(m) return "handled: " .. m end))
print(xpcall(function() error({}) end, function(m) return type(m) end))
print(xpcall(function() local x = nil; return x.y end, function(m) return (m:gsub("^.-:%d+: ", "")) end))
local depth = 0
print(xpcall(function() error("e") end, function(m) depth = depth + 1; return depth end))
