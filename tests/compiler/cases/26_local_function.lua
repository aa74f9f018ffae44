local function fact(n)
  if n <= 1 then return 1 end
  return n * fact(n - 1)
end
local fib
fib = function(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
local function even(n) if n == 0 then return true end return odd(n - 1) end
function odd(n) if n == 0 then return false end return even(n - 1) end
print(fact(5), fib(10), even(4))
