-- Crashes from a few nested Lua functions (compiled with --jit-threshold=0),
-- for the tombstone tests and bench/tombstone_bench.
-- usage: jitvm --test-builtins --jit-threshold=0 crash_nested.lua KIND [thread]
-- KIND: a vmtest.crash kind (segv, abort, ill, fpe, stack-overflow, jit-segv).
-- With "thread" the crash happens on a new thread while this one waits.
local kind, where = arg[1], arg[2] or "here"

local function crash_here()
  if kind == "jit-segv" and where == "here" then
    -- Written out literally so the compiler emits the faulting store in
    -- this function's own code (the fault pc is JIT code).
    vmtest.crash("jit-segv")
  else
    vmtest.crash(kind, where)
  end
  return 0
end

local function level3() return crash_here() + 1 end
local function level2() return level3() + 1 end
local function level1() return level2() + 1 end

print(level1())
