-- sieve: the sieve of Eratosthenes, repeated, with a boolean array per run.
local harness = require "harness"
local n = harness.size(400)

local function sieve(size)
  local flags = {}
  for i = 1, size do flags[i] = true end
  local primes = 0
  for i = 2, size do
    if flags[i] then
      primes = primes + 1
      for k = i + i, size, i do flags[k] = false end
    end
  end
  return primes
end

harness.run("sieve", n, function() return sieve(50000) end, function(r) return r == 5133 end)
