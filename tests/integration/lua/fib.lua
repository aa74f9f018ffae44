-- Recursive fib that stops (vmtest.stop_here) at the bottom of its first
-- descent, so debuggers see fib five frames deep above the main chunk.
-- Tests find the lines they check by the text on them: keep the call to
-- stop_here, the recursive call and the print each on a line of their own.
local stopped = false

local function fib(n)
  if n < 2 then
    if not stopped then
      stopped = true
      vmtest.stop_here()
    end
    return n
  end
  return fib(n - 1) + fib(n - 2)
end

print(fib(5))
