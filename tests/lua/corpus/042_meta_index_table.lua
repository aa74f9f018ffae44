local base = {greet = "hi", n = 1}
local t = setmetatable({}, {__index = base})
print(t.greet, t.n, t.missing)
t.n = 2
print(t.n, base.n)
print(rawget(t, "greet"))
local chain3 = setmetatable({}, {__index = setmetatable({}, {__index = {deep = "deep"}})})
print(chain3.deep)
