local t = {}
local u = {1, 2, 3}
local v = {x = 1, y = 2}
local w = {1, x = 2, 3, [10] = 4, ["k"] = 5; 6,}
local n = {{1}, {2, {3}}, {a = {b = {}}}}
local e = {[1] = 1, [2] = 2}
local f = {f = function() end, g = print}
local k = {true, false, nil}
local m = {[true] = 1, [false] = 0}
t[1] = 1
t.x = t
t[t] = t.x
t["y"] = nil
t[nil == nil] = 1
t[1.5] = u[1]
u[#u + 1] = 4
local z = t.x.x.x[1]
