-- Benchmark program for bench/debuginfo_vm_bench: loads COUNT generated
-- chunks, each defining one small function of a realistic shape (a branch,
-- a loop, a field access), so that with --jit-threshold=0 jitvm compiles
-- 2 * COUNT functions (each chunk and its function). Then calls all of them
-- ROUNDS times, and with STOP = "stop" halts in vmtest.stop_here() (needs
-- --test-builtins) so that a debugger can attach with every function live.
-- usage: jitvm --jit-threshold=0 many_functions.lua [COUNT [ROUNDS [STOP]]]
local count = tonumber(arg and arg[1]) or 10000
local rounds = tonumber(arg and arg[2]) or 20
local stop = arg and arg[3] == "stop"

local template = [[
local k, t = %d, {step = %d}
return function(x, y)
  local s = x * k
  if s > y then s = s - y else s = s + y end
  for j = 1, 3 do s = s + j * t.step end
  return s %% 1000
end
]]

-- The chunks are kept too: collecting them would free their code, and the
-- benchmark measures debug info with every function live.
local chunks, functions = {}, {}
for i = 1, count do
  chunks[i] = assert(loadstring(string.format(template, i, i % 7 + 1), "gen" .. i))
  functions[i] = chunks[i]()
end

local sum = 0
for _ = 1, rounds do
  for i = 1, count do
    sum = (sum + functions[i](i, 3)) % 1000003
  end
end
print(sum)
if stop then
  vmtest.stop_here()
end
