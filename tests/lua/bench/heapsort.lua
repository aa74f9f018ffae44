-- heapsort: sort an array of random floats in place (the classic Lua test program).
local harness = require "harness"
local n = harness.size(600000)

local kIM, kIA, kIC = 139968, 3877, 29573
local last = 42
local function gen_random(max)
  last = (last * kIA + kIC) % kIM
  return max * last / kIM
end

local function heapsort(n, ra)
  local j, i, rra
  local l = math.floor(n / 2) + 1
  local ir = n
  while true do
    if l > 1 then
      l = l - 1
      rra = ra[l]
    else
      rra = ra[ir]
      ra[ir] = ra[1]
      ir = ir - 1
      if ir == 1 then ra[1] = rra; return end
    end
    i = l
    j = l * 2
    while j <= ir do
      if j < ir and ra[j] < ra[j + 1] then j = j + 1 end
      if rra < ra[j] then
        ra[i] = ra[j]
        i = j
        j = j + i
      else
        j = ir + 1
      end
    end
    ra[i] = rra
  end
end

local a = {}
for i = 1, n do a[i] = gen_random(1.0) end
heapsort(n, a)
for i = 1, n - 1 do assert(a[i] <= a[i + 1], "not sorted") end
io.write(string.format("%0.10f %0.10f %0.10f\n", a[1], a[math.floor(n / 2)], a[n]))
