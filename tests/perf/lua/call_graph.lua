-- A callee that does all the work, called only from a caller (both Lua), for
-- ~1.5 s of CPU: with --call-graph dwarf, perf must unwind from the callee's
-- code to the caller's using the CFI that jitdump's UNWINDING_INFO carries.
local function callee(n)
  local s = 0
  for i = 1, n do s = s + (i % 13) * (i % 5) end
  return s
end

local function caller(rounds)
  local total = 0
  for r = 1, rounds do total = total + callee(5000 + r) end
  return total
end

local start = os.clock()
local calls = 0
while os.clock() - start < 1.5 do
  caller(20)
  calls = calls + 1
end
print(calls)
