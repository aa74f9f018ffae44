local a
local b, c = 1
local d, e, f = 1, 2, 3, 4
local g = nil
local h, i = nil, nil
local j = a
a, b = b, a
local k, l = ...
