local function memoize(f)
  local cache = {}
  return function(n)
    local v = cache[n]
    if v == nil then v = f(n); cache[n] = v end
    return v
  end
end
local fib
fib = memoize(function(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end)
print(fib(80))
local calls = 0
local slow = memoize(function(n) calls = calls + 1; return n * 2 end)
slow(1); slow(1); slow(2)
print(calls)
