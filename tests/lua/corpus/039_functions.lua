local function fact(n) if n <= 1 then return 1 end return n * fact(n - 1) end
print(fact(10), fact(20))
function globalfn(a, b) return a - b end
print(globalfn(5, 3))
local t = {}
function t.f(x) return x * 2 end
t.sub = {}
function t.sub.g(x) return x + 1 end
print(t.f(4), t.sub.g(4))
local anon = function(...) return select('#', ...) end
print(anon(1, 2))
local function noreturn() end
print(noreturn())
print((function(a, b, c) return c, b, a end)(1, 2))
