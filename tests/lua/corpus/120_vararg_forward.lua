local function inner(...) return select('#', ...), ... end
local function mid(...) return inner(...) end
local function outer(...) return mid(...) end
print(outer())
print(outer(nil))
print(outer(1, nil, nil))
local function tail(...) return ... end
print(tail(1, 2, 3), tail(4, 5))
local t = {tail(1, 2), tail(3, 4)}
print(#t, t[1], t[2], t[3])
local function wrap(...) local t = {...}; return #t, unpack(t) end
print(wrap("a", "b"))
