-- A target for the viewer tests (run with --jit-threshold=0 so every
-- function is compiled before its first call): compiles a few functions,
-- prints "ready", then waits. When the file named by arg[1] appears it
-- compiles one more function (late_arrival) and prints "late"; when the
-- file arg[3] appears (and --test-builtins gave us vmtest) it frees all
-- code not on the stack and prints "flushed"; when the file arg[2] appears
-- it returns (the process exits).
local trigger, quit, flush = arg[1], arg[2], arg[3]

local function square(x)
  return x * x
end

local function sum_squares(n)
  local total = 0
  for i = 1, n do
    total = total + square(i)
  end
  return total
end

local function fib(n)
  if n < 2 then return n end
  return fib(n - 1) + fib(n - 2)
end

local function exists(path)
  local f = path and io.open(path, "r")
  if f then f:close() return true end
  return false
end

print(sum_squares(10), fib(10))
print("ready")
io.stdout:flush()

local late_done, flush_done = false, false
while not exists(quit) do
  if not flush_done and vmtest and exists(flush) then
    vmtest.flush_jit()
    vmtest.gc()
    print("flushed")
    io.stdout:flush()
    flush_done = true
  end
  if not late_done and exists(trigger) then
    -- Loaded only now, so its code is registered after the page opened.
    local late_arrival = assert(loadstring([[
      local function late_arrival(x)
        return x + 42
      end
      return late_arrival
    ]], "late.lua"))()
    print(late_arrival(1))
    print("late")
    io.stdout:flush()
    late_done = true
  end
  os.execute("sleep 0.05")
end
