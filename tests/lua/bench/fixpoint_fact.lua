-- fixpoint-fact: factorial through the applicative-order Y combinator, so every
-- step is a call through freshly made closures.
local harness = require "harness"
local n = harness.size(400000)

local function Y(f)
  return (function(x) return x(x) end)(function(x)
    return f(function(...) return x(x)(...) end)
  end)
end

local fact = Y(function(self)
  return function(k, acc) if k == 0 then return acc end return self(k - 1, acc * k) end
end)

local fib = Y(function(self)
  return function(k) if k < 2 then return k end return self(k - 1) + self(k - 2) end
end)

local sum = 0
for i = 1, n do sum = sum + fact(i % 20, 1) % 1000 end
io.write("sum of fact(i % 20) % 1000 = ", sum, "\n")
io.write("fact(20) = ", string.format("%.0f", fact(20, 1)), "\n")
io.write("fib(", 16, ") = ", fib(16), "\n")
