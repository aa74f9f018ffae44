local function f() end
local function g(a) return a end
local function h(a, b, c) return a + b + c end
local function v(...) return ... end
local function w(a, ...) local t = {...} return a, #t end
local function u(a, ...) return arg end
local function s(...) return select('#', ...) end
function globalf(x, y) return x * y end
local k = function(x) return function(y) return x + y end end
print(f(), g(1), h(1, 2, 3), v(1, 2), w(1, 2, 3), u(1, 2), s(), globalf(2, 3), k(1)(2))
