-- Mixed tiers at the stop: only `hot` is compiled (it is called until the
-- JIT has installed its code); `inner`, `outer` and the main chunk run in
-- the interpreter. Run with the default --jit-threshold.
local function inner()
  vmtest.stop_here()
end

local function hot(stop)
  if stop then inner() end
  return vmtest.tier()
end

-- Compilation is asynchronous: spin until the compiled code is in use, but
-- give up eventually so a JIT that never compiles fails the test instead
-- of hanging it.
local function warm()
  for _ = 1, 50000000 do
    if hot(false) == "baseline" then return end
  end
end

warm()

local function outer()
  hot(true)
end

outer()
