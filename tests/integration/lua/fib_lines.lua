-- Recursive fib without stops, for breakpoints on Lua lines in compiled code.
-- Tests find the line they break on by its text: keep the recursive call on a
-- line of its own.
local function fib(n)
  if n < 2 then
    return n
  end
  return fib(n - 1) + fib(n - 2)
end

print(fib(10))
