-- In Lua 5.1, __len is honoured only for userdata; tables use the raw length.
local t = setmetatable({1, 2, 3}, {__len = function() return 99 end})
print(#t)
local u = newproxy(true)
getmetatable(u).__len = function() return 42 end
print(#u)
print(type(u))
