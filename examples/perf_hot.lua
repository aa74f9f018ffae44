-- A small CPU-bound program for the perf guide (docs/perf.md): two hot Lua
-- functions called from a third, for about two seconds.
local function collatz_steps(n)
  local steps = 0
  while n ~= 1 do
    if n % 2 == 0 then n = n / 2 else n = 3 * n + 1 end
    steps = steps + 1
  end
  return steps
end

local function harmonic(n)
  local x = 0.0
  for i = 1, n do x = x + 1.0 / i end
  return x
end

local function run(seconds)
  local t0, best, h = os.clock(), 0, 0
  while os.clock() - t0 < seconds do
    for n = 1, 2000 do
      local s = collatz_steps(n)
      if s > best then best = s end
    end
    h = h + harmonic(400000)
  end
  return best, h
end

local seconds = tonumber(arg and arg[1]) or 2
local best = run(seconds)
print("longest collatz chain below 2000: " .. best .. " steps")
