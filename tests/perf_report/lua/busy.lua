-- CPU-bound work for the perf report end-to-end test: a recursive function
-- (so total > self shows up under recursion) and a tight numeric loop, long
-- enough (~0.5 s in the interpreter) for a few thousand cpu-clock samples.
local function fib(n)
  if n < 2 then return n end
  return fib(n - 1) + fib(n - 2)
end

local function sum_squares(n)
  local s = 0
  for i = 1, n do s = s + i * i end
  return s
end

local total = 0
for _ = 1, 6 do
  total = total + fib(29) + sum_squares(10000000)
end
print(total)
