local mt = {__index = function() return "meta" end, __newindex = function() end,
            __eq = function() return true end}
local t = setmetatable({}, mt)
local u = setmetatable({}, mt)
print(t.x, rawget(t, "x"))
t.y = 1
print(rawget(t, "y"))
rawset(t, "y", 2)
print(t.y)
print(t == u, rawequal(t, u), rawequal(t, t))
print(rawequal("a", "a"), rawequal(1, 1.0))
print(rawset(t, "z", 3) == t)
