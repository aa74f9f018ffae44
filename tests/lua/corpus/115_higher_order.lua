local function map(t, f) local r = {} for i, v in ipairs(t) do r[i] = f(v) end return r end
local function filter(t, p) local r = {} for _, v in ipairs(t) do if p(v) then r[#r + 1] = v end end return r end
local function reduce(t, f, acc) for _, v in ipairs(t) do acc = f(acc, v) end return acc end
local function compose(f, g) return function(...) return f(g(...)) end end
local nums = {}
for i = 1, 10 do nums[i] = i end
local sq = map(nums, function(x) return x * x end)
local ev = filter(sq, function(x) return x % 2 == 0 end)
print(table.concat(ev, " "), reduce(ev, function(a, b) return a + b end, 0))
local inc_then_double = compose(function(x) return x * 2 end, function(x) return x + 1 end)
print(inc_then_double(5))
local function curry(f) return function(a) return function(b) return f(a, b) end end end
print(curry(math.max)(3)(9))
