local function fact(n) return n <= 1 and 1 or n * fact(n - 1) end
print(fact(5))
local ok = pcall(function()
  local g = function(n) if n == 0 then return 0 end return g(n - 1) end
  return g(3)
end)
print(ok)
local function shadow(x, x2) local x = x * 10; return x end
print(shadow(2))
local function params(a, a) return a end
print(params(1, 2))
