-- Lua 5.1 compatibility: a vararg function that does not use ... sees 'arg'
local function f(...) return arg and arg.n end
print(f(1, 2))
local function g(...) local n = select('#', ...); return n end
print(g(1, 2, 3))
print(unpack({1, 2, 3}))
print(unpack({1, 2, 3}, 2))
print(unpack({1, 2, 3}, 2, 3))
print(select('#', unpack({}, 1, 3)))
