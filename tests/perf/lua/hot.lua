-- Three CPU-bound Lua functions of different shapes (recursive calls, an
-- integer loop, a float loop), each run for 0.5 s of CPU time so that perf
-- takes a few thousand samples in each whatever the machine's load. Timing
-- by os.clock (process CPU time) rather than by iteration counts keeps the
-- sample count steady when other jobs share the cores.
local function fib(n)
  if n < 2 then return n end
  return fib(n - 1) + fib(n - 2)
end

local function sum_squares(n)
  local s = 0
  for i = 1, n do s = s + i * i end
  return s
end

local function harmonic(n)
  local h, sign = 0.0, 1.0
  for i = 1, n do
    h = h + sign / i
    sign = -sign
  end
  return h
end

local seconds_each = 0.5
local function run_for(f, x)
  local start, calls = os.clock(), 0
  while os.clock() - start < seconds_each do
    f(x)
    calls = calls + 1
  end
  return calls
end

print(run_for(fib, 24), run_for(sum_squares, 200000), run_for(harmonic, 200000))
