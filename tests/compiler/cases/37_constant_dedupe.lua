local a = "x"
local b = "x"
local c = 1
local d = 1.0
local e = 0
local f = -0
local t = {}
t.x = "x"
t[1] = 1
t[true] = true
t[false] = false
local g = t.x == "x"
local h = t[1] == 1
local i = a == nil
local j = nil == a
