local f1 = function() end
local f2 = function() end
local t = {[f1] = "first", [f2] = "second", [true] = "yes", [false] = "no"}
print(t[f1], t[f2], t[true], t[false])
print(f1 == f2, f1 == f1)
local makers = {}
for i = 1, 2 do makers[i] = function() end end
print(makers[1] == makers[2])
local k = {}
t[k] = 1
t[k] = t[k] + 1
print(t[k])
