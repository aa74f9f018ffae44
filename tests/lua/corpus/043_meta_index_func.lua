local calls = 0
local t = setmetatable({a = 1}, {__index = function(tbl, k) calls = calls + 1; return k .. "!" end})
print(t.a, t.b, t[1], calls)
local sq = setmetatable({}, {__index = function(_, n) return n * n end})
print(sq[4], sq[12])
