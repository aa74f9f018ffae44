-- Arithmetic results reused from a register by the next instruction in the
-- same basic block (the JIT's xmm0 cache), and everything that must end it.
local function chain(a, b, c)
  local x = a * b + c      -- MUL then ADD reads the MUL result
  local y = x % 7 - x / 3  -- both operands from the cache
  local z = y * y          -- B == C, both cached
  return x, y, z
end
for i = 1, 3 do print(chain(i, 2.5, -1)) end

-- comparisons with a cached operand on either side, including NaN
local function cmp(a, b)
  local s = a + b
  local r1 = s < b
  local t = a - b
  local r2 = b <= t
  local n = a / 0 - a / 0  -- NaN (inf - inf)
  local r3 = n < 1
  local m = 0 / 0
  local r4 = 1 <= m
  local u = a * 2
  local r5 = u < u
  local v = a * 3
  local r6 = v <= v
  return r1, r2, r3, r4, r5, r6
end
for i = 1, 3 do print(cmp(i, 1)) end

-- an arithmetic metamethod result: xmm0 holds its payload, the tag is a table
local mt = {__add = function(p, q) return setmetatable({v = (type(p) == "table" and p.v or p) + 10}, getmetatable(type(p) == "table" and p or q)) end,
            __mul = function(p, q) return "mul" end}
local function meta(o)
  local r = o + 1
  local w = r + 2
  local s = r * 3
  return w.v, s
end
for i = 1, 3 do print(meta(setmetatable({v = i}, mt))) end

-- a store through an open upvalue to the cached slot
local function upv(a)
  local x = a + 1
  local function set(v) x = v end
  local y = x * 2
  set(100)
  local z = x + 1          -- must read 101, not the cached a + 1
  return y, z
end
for i = 1, 3 do print(upv(i)) end

-- the cached slot overwritten by MOVE, LOADK, LOADNIL, LOADBOOL, GETUPVAL
local up = 1000
local function overwrite(a)
  local x = a + 1
  local k = 7
  x = k                    -- MOVE onto the cached slot
  local r1 = x + 1
  local y = a * 2
  y = 3.5                  -- LOADK
  local r2 = y * 2
  local w = a - 1
  w = up                   -- GETUPVAL
  local r3 = w + 1
  return r1, r2, r3
end
for i = 1, 3 do print(overwrite(i)) end

local function nils(a)
  local x, y = a + 1, nil
  local q = x * 2
  x, y = nil, nil          -- LOADNIL over the cached slot
  local ok = pcall(function() return x + 1 end)
  return q, ok
end
for i = 1, 3 do print(nils(i)) end

-- a loop: control merges at the header, the cache must not flow around it
local function loop(n)
  local acc, last = 0, 0
  for i = 1, n do
    local t = i * i
    if t % 2 == 0 then last = t else last = -t end
    acc = acc + last
  end
  local w = 0
  while w < 10 do w = w + 3 end
  return acc, last, w
end
print(loop(10), loop(11))

-- string coercion takes the slow path: the result is a number again
local function coerce(s)
  local x = s + 1
  local y = x * 2
  return y
end
for i = 1, 3 do print(coerce(tostring(i))) end

-- table reads cache their result; computed keys come from the cache
local function sums(t, n)
  local s = 0
  for i = 1, n do
    s = s + t[i] * t[n - i + 1]   -- key n - i + 1 from the cache, results cached
  end
  local missing = t[n + 1]        -- nil result
  local viaidx = setmetatable({}, {__index = function(_, k) return k * 2 end})
  local x = viaidx[21] + 0.5      -- __index result then arithmetic
  local g = setmetatable({}, {__index = {f = 4}})
  local y = g.f * 3               -- through the __index chain
  local z = g.nothere             -- chain ends in nil
  return s, missing, x, y, z
end
local arr = {}
for i = 1, 8 do arr[i] = i + 0.25 end
for i = 1, 3 do print(sums(arr, 8)) end

-- a __newindex that stores through an open upvalue into the cached slot
local function newindex(a)
  local x = a * 2
  local t = setmetatable({}, {__newindex = function(_, k, v) x = v end})
  local y = x + 1
  t.k = 50                        -- SETTABLE slow path runs the metamethod
  local z = x + 1                 -- must be 51
  t[1] = 60
  local w = x + y                 -- 60 + y
  return y, z, w
end
for i = 1, 3 do print(newindex(i)) end

-- array stores with a computed key
local function fill(n)
  local t = {}
  for i = 1, n do t[i] = 0 end
  for i = 1, n - 1 do
    local j = i + 1
    t[j] = t[i] + j
  end
  return t[n], #t
end
for i = 1, 3 do print(fill(5 + i)) end

-- equality against constants (one tag test, then the payloads)
local function eqk(v)
  local r = {}
  r[#r + 1] = v == 0
  r[#r + 1] = v ~= 0
  r[#r + 1] = 1.5 == v
  r[#r + 1] = v == "1"
  r[#r + 1] = "x" ~= v
  r[#r + 1] = v == nil
  r[#r + 1] = nil ~= v
  r[#r + 1] = v == true
  r[#r + 1] = v ~= false
  local w = v
  if type(v) == "number" then w = v * 1 end
  r[#r + 1] = w == 3            -- operand from the register cache
  local out = {}
  for i = 1, #r do out[i] = tostring(r[i]) end
  return table.concat(out, " ")
end
for _, v in ipairs({0, 1.5, 3, -0.0, "1", "x", true, false, 0 / 0, {}, print}) do print(eqk(v)) end
print(eqk(nil))
local function eqloop(n)
  local c = 0
  for i = 1, n do if i % 3 == 0 then c = c + 1 end end
  return c
end
print(eqloop(100))

-- values just loaded (moves, constants, upvalues, table reads) feed the next
-- operation from a second register
local base_up = 2.5
local function loads(t, i)
  local a = t[i]
  local b = a * 2           -- B loaded
  local c = base_up
  local d = b - c           -- C loaded, B computed
  local e = 10
  local f = e / d           -- B loaded constant
  local g = t.w
  local h = g ^ 2           -- POW of a loaded value
  local m = t[i + 1]
  local n = f % m           -- MOD with C loaded
  local p = a
  local q = p + p           -- MOVE then both operands
  local lt = t[1] < t[2]    -- both compared values loaded
  local le = d <= t[2]
  local eq = t[2] == 2
  return b, d, f, h, n, q, lt, le, eq
end
for i = 1, 3 do print(loads({1, 2, 3, 4, w = 3}, i)) end

-- a metamethod that writes an upvalue of this frame between the load and its use
local function meta_writes()
  local k = 5
  local obj = setmetatable({}, {__add = function(_, n) k = 1000; return n end,
                               __index = function() k = 2000; return 1 end})
  local r = {}
  local a = k               -- xmm3 holds k's payload
  local x = obj + 1         -- arithmetic slow path runs __add, k = 1000
  r[#r + 1] = k * 1         -- must see 1000
  k = 7
  local b = k
  local y = obj.missing     -- GETTABLE slow path runs __index, k = 2000
  r[#r + 1] = k + 0         -- must see 2000
  k = 9
  local c = k + 1           -- xmm0 = c
  local z = obj.other       -- __index again: k = 2000, c unchanged
  r[#r + 1] = c + k
  return a, x, b, y, z, table.concat(r, " ")
end
for i = 1, 3 do print(meta_writes()) end

-- a loop variable used after table stores that take the slow path (new keys)
local function fill3(n)
  local x, col, val = {}, {}, {}
  for i = 1, n do x[i] = i; col[i] = n + 1 - i; val[i] = 10 * i end
  return x, col, val
end
local fx, fcol, fval = fill3(4)
print(fx[1], fx[4], fcol[1], fcol[4], fval[1], fval[2], fval[3], fval[4])

-- nested loops whose bounds come from table reads; the index used as a key
local function sparse(n)
  local x, col, val = fill3(n)
  local row = {1, 3, n + 1}
  local sum, sum2 = 0, 0
  for r = 1, 2 do
    for i = row[r], row[r + 1] - 1 do
      sum = sum + x[col[i]] * val[i]
      sum2 = sum2 + val[i] * 2 + i
    end
  end
  local empty = 0
  for i = 5, 1 do empty = empty + i end  -- no iterations
  for i = 1, 3 do end
  return sum, sum2, empty
end
for n = 4, 6 do print(sparse(n)) end
