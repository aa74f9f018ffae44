-- Like hot.lua but for ~3 s of CPU, long enough to attach a profiler to the
-- running VM once its code is compiled and record 2 s of it. Prints
-- "compiled" once the hot functions have been called often enough to be
-- compiled (jitvm's default threshold is 100 calls).
local function ackermann(m, n)
  if m == 0 then return n + 1 end
  if n == 0 then return ackermann(m - 1, 1) end
  return ackermann(m - 1, ackermann(m, n - 1))
end

local function dot(n)
  local s = 0
  for i = 1, n do s = s + (i % 7) * (i % 11) end
  return s
end

local function leibniz(n)
  local pi, sign = 0.0, 1.0
  for i = 0, n do
    pi = pi + sign / (2 * i + 1)
    sign = -sign
  end
  return 4 * pi
end

local seconds_total = 3.0
local start = os.clock()
local rounds = 0
while os.clock() - start < seconds_total do
  -- Interleaved, so that any 2 s window sees all three.
  ackermann(2, 200)
  dot(20000)
  leibniz(20000)
  rounds = rounds + 1
  if rounds == 150 then
    print("compiled")
    io.stdout:flush()
  end
end
print(rounds)
