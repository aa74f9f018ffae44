local t = setmetatable({}, {__index = function(t, k) return k end})
local s = ("%d"):format(5)
local n = #t + #s
local x = t.a and t.b or t.c or t.d and t.e
local y = {n = select('#', 1, 2, 3), ...}
local z = (function(...) return select('#', ...) end)(1, nil, 3)
goto = 1
local longname_with_underscores_1 = _G
print(_VERSION, longname_with_underscores_1)
