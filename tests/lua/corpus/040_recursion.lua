local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
print(fib(20))
local function depth(n) if n == 0 then return 0 end return 1 + depth(n - 1) end
print(depth(16000))
local isodd
local function iseven(n) if n == 0 then return true end return isodd(n - 1) end
function isodd(n) if n == 0 then return false end return iseven(n - 1) end
print(iseven(100), isodd(7))
local function tc(n) if n == 0 then return "done" end return tc(n - 1) end
print(tc(1000000))
