-- Exercises the JIT's inline paths against the interpreter's semantics:
-- calls with too few / too many arguments, returns to callers wanting 0, 1
-- or all results, tail calls, __index chains (tables, functions, depth),
-- string methods, #t, pairs/ipairs (including a non-table and a modified
-- table), and numeric for loops with constant and variable steps.

local function two(a, b) return a end
local function none() end
local function pick(a, b, c) return c end
local out = {}
local function add(x) out[#out + 1] = tostring(x) end

for rep = 1, 3 do
  add(two(1)); add(two(1, 2, 3)); add(pick(1, 2)); add(pick(1, 2, 3, 4))
  add(select('#', none())); add(select('#', two(5)))
  add(select('#', pick(1, 2, 3)))
  none(); two(7)
  local t = {two(1, 2), two(3), none()}
  add(#t)
end

-- tail calls, including deep ones and one changing arity
local function count(n, acc) if n == 0 then return acc end return count(n - 1, acc + 1) end
local function tail_varargs(...) return select('#', ...) end
local function tail_to_native(s) return string.upper(s) end
local function tail_fewer(a) return pick(a) end
for rep = 1, 3 do
  add(count(50000, 0)); add(tail_varargs(1, 2, 3)); add(tail_to_native("abc")); add(tail_fewer(9))
end

-- __index chains
local Base = {kind = "base", hello = function(self) return "hello " .. self.name end}
Base.__index = Base
local Mid = setmetatable({mid = true}, Base)
Mid.__index = Mid
local Leaf = setmetatable({}, Mid)
Leaf.__index = Leaf
local obj = setmetatable({name = "obj"}, Leaf)
local dyn = setmetatable({}, {__index = function(t, k) return "dyn:" .. k end})
local deep = {v = "bottom"}
for i = 1, 12 do deep = setmetatable({}, {__index = deep}) end
local nometa = {}
for rep = 1, 3 do
  add(obj.kind); add(obj.mid); add(obj:hello()); add(obj.missing); add(dyn.x)
  add(deep.v); add(deep.none); add(nometa.x)
  local s = "Hello"
  add(s:upper()); add(s:sub(2, 3)); add(("x"):rep(3)); add(#s)
end

-- hash part with many keys (collisions walk the probe chain)
local h = {}
for i = 1, 200 do h["k" .. i] = i end
local sum = 0
for rep = 1, 3 do
  sum = sum + h.k1 + h.k77 + h.k200 + (h.k201 or 0)
  for i = 1, 200 do sum = sum + h["k" .. i] end
end
add(sum)

-- # on tables with holes at the end and a hash part
local arr = {1, 2, 3}
for rep = 1, 3 do arr[#arr + 1] = rep; add(#arr) end
arr[#arr] = nil; add(#arr)

-- pairs / ipairs
local seq = {10, 20, 30, nil, 50}
local isum, icount = 0, 0
for rep = 1, 3 do
  for i, v in ipairs(seq) do isum = isum + i * v; icount = icount + 1 end
end
add(isum); add(icount)
local keys = {}
local map = {a = 1, b = 2, c = 3, [1] = "one", [2] = "two"}
for k, v in pairs(map) do keys[#keys + 1] = tostring(k) .. "=" .. tostring(v) end
table.sort(keys)
add(table.concat(keys, ","))
local m2 = {x = 1, y = 2, z = 3}
for k in pairs(m2) do m2[k] = nil end  -- assigning nil during traversal is allowed
add(next(m2) == nil)
local ok, err = pcall(function() for i, v in ipairs(nil) do end end)
add(ok)
local t3 = setmetatable({}, {__index = function(t, i) if i <= 3 then return i * 2 end end})
local s3 = 0
for i, v in ipairs(t3) do s3 = s3 + v end  -- Lua 5.1's ipairs is raw: sees nothing
add(s3)

-- numeric for loops
local fs = 0
for rep = 1, 3 do
  for i = 10, 1, -1 do fs = fs + i end
  for i = 1, 3, 0.5 do fs = fs + i end
  for i = 1, 0 do fs = fs + 1000 end
  local st = (rep % 2 == 0) and 2 or -2
  for i = 0, 6 * st, st do fs = fs + i end
  for i = 1.5, 4.2 do fs = fs + i end
end
add(fs)

print(table.concat(out, " "))
