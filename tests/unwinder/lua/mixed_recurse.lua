-- Compiled and interpreted frames interleaved, DEPTH deep (jitvm -e
-- 'DEPTH=N'; default 10): `hot` is warmed until the JIT has installed its
-- code (run with the default --jit-threshold), `cold` is only called on
-- the final descent, so it stays in the interpreter unless that descent
-- alone makes it hot. vmtest.stop_here() at the bottom.
local depth = DEPTH or 10
local stopping = false
local cold

local function hot(n)
  if n <= 1 then
    if stopping then vmtest.stop_here() end
    return vmtest.tier()
  end
  local r = cold(n - 1)
  return r
end

cold = function(n)
  local r = hot(n)
  return r
end

-- Compilation is asynchronous: spin until the compiled code runs, but give
-- up eventually so a JIT that never compiles fails instead of hanging.
local function warm()
  for _ = 1, 50000000 do
    if hot(1) == "baseline" then return end
  end
end

warm()
stopping = true
print(hot(depth))
