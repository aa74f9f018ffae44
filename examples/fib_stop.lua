-- Recursion through compiled code down to a known point: vmtest.stop_here()
-- records the VM's own view of the Lua stack and stops the process, so a
-- debugger can compare its backtrace with the truth.
local function fib(n)
  if n < 2 then
    if n == 1 and vmtest then vmtest.stop_here() end
    return n
  end
  return fib(n - 1) + fib(n - 2)
end
print(fib(4))
