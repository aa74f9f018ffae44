-- The JIT's number-slot analysis: compiled code skips the tag checks of slots
-- it proves hold numbers. Every way a slot can stop holding a number, inside
-- loops that get compiled (or entered by OSR), must still be seen.

local function loop_var_reassigned(n)
  local s = 0
  for i = 1, n do
    i = i * 2          -- arithmetic on a number: still a number
    s = s + i
  end
  for i = 1, 3 do
    i = tostring(i)    -- a call result: anything
    s = s .. i
  end
  return s
end
print("loop var", loop_var_reassigned(10))

-- A local captured by a closure changes type behind the loop's back.
local function captured(n)
  local x = 1
  local set = function(v) x = v end
  local acc = 0
  for i = 1, n do
    acc = acc + x
    if i == n - 1 then set("7") end  -- a string that coerces
  end
  local ok = pcall(function() set({}) ; return acc + x end)
  return acc, type(x), ok
end
print("captured", captured(6))

-- Arithmetic whose operand has a metamethod: the result is what __add returns.
local mt = {__add = function(a, b) return "sum" end, __unm = function() return false end,
            __lt = function() return true end}
local obj = setmetatable({}, mt)
local function meta(n)
  local r = 0
  local out = {}
  for i = 1, n do
    local v = (i % 3 == 0) and obj or i
    r = v + 1                -- number, or "sum"
    out[#out + 1] = type(r)
    local u = -v             -- number, or false
    out[#out + 1] = type(u)
    if v == obj or v < 2 then out[#out + 1] = "lt" end
  end
  return table.concat(out, ",")
end
print("meta", meta(6))

-- Strings coerce in arithmetic (no metamethod) and keep their type in moves.
local function coerce(n)
  local a, b = "10", 0
  for i = 1, n do
    b = a + i                -- a string operand: the result is still a number
    a = a .. ""              -- concat: a string again
  end
  local c = a                -- a move of a string
  return b, type(a), type(c), c + 1
end
print("coerce", coerce(5))

-- Control-flow merges: a slot is a number on one path only.
local function merge(n)
  local out = {}
  for i = 1, n do
    local x = 1
    if i % 2 == 0 then x = "s" .. i end
    local y = x              -- number or string
    out[#out + 1] = type(y) .. ":" .. tostring(y)
    local z = i * 2
    if z > 4 then z = nil end
    out[#out + 1] = tostring(z)
  end
  return table.concat(out, " ")
end
print("merge", merge(6))

-- Multiple results and varargs overwrite slots at and above their base.
local function two() return "a", "b" end
local function multi(...)
  local p, q, r = 1, 2, 3
  for _ = 1, 3 do
    p, q, r = p + 1, q + 1, r + 1
  end
  local s1 = p + q + r
  p, q = two()
  local t = {...}
  r = ...
  return s1, p, q, r, #t
end
print("multi", multi("v", 2, 3))

-- Array keys known to be numbers, including non-integers and out of range.
local function keys(n)
  local t = {}
  for i = 1, n do t[i] = i * i end
  local s = 0
  for i = 1, n + 2 do s = s + (t[i] or -1) end
  for i = 0.5, 3, 0.5 do s = s + (t[i] or 100) end
  t[2.5] = "half"
  local k = 2.5
  return s, t[k], t[-1], #t
end
print("keys", keys(8))

-- Comparisons of proven numbers, NaN included.
local function cmp(n)
  local nan = 0 / 0
  local c = 0
  for i = 1, n do
    local x = i - 3
    if x < 0 then c = c + 1 end
    if x <= 0 then c = c + 10 end
    if x == 0 then c = c + 100 end
    if x ~= x then c = c + 1000 end
    local y = nan * i
    if y == y then c = c + 10000 end
    if y < 1 or y >= 1 then c = c + 100000 end
  end
  return c
end
print("cmp", cmp(5))

-- Generic for overwrites its control slots with whatever the iterator returns.
local function generic()
  local out = {}
  local k0 = 0
  for k, v in pairs({10, 20, x = "y"}) do
    k0 = k0 + 1
    out[#out + 1] = type(k) .. "=" .. tostring(v)
  end
  table.sort(out)
  return k0, table.concat(out, ",")
end
print("generic", generic())

-- A hot loop entered by OSR with slots already holding numbers.
local function osr()
  local a, b = 0, 1
  for i = 1, 20000 do
    a, b = b, (a + b) % 1000
  end
  local s = "x"
  for i = 1, 3 do s = s .. a end
  return a, b, s
end
print("osr", osr())

-- Array keys proven integral (loop variables with integral start and step,
-- +, -, *, % and unary minus of them) and keys that are not.
local function integral_keys(n)
  local t = {}
  for i = 1, n do t[i] = i end
  local s = 0
  for i = 1, n do
    s = s + (t[i * 2 - 1] or 0) + (t[i % 3 + 1] or 0) + (t[-i] or 1000)
    s = s + (t[i / 2] or 0.25)           -- a fraction half of the time
    s = s + (t[i * 2 ^ 60] or 7)         -- integral but far outside the array
    s = s + (t[i % 0] or 11)             -- NaN: a miss, not an error
    s = s + (t[i * 1e308 * 10] or 13)    -- inf
    s = s + (t[0 * i] or 17)             -- 0 (and -0 below)
    s = s + (t[-(0 * i)] or 19)
  end
  for i = 0.5, 4 do s = s + (t[i] or 0.125) end      -- a fractional start
  for i = 1, 4, 0.5 do s = s + (t[i] or 0.0625) end  -- a fractional step
  for i = n, 1, -2 do t[i] = -t[i] end               -- a negative integral step, stores
  local u = 0
  for i = 1, n do u = u + t[i] end
  return s, u
end
print("integral keys", integral_keys(9))

-- Innermost numeric for loops without calls keep their index, limit and most
-- read slots in registers; every way such a slot is written must keep them.
local vec = setmetatable({}, {__add = function(a, b) return 1000 end, __lt = function() return false end})
local function pinned(n, odd)
  local acc, x, y = 0, 1, 2
  for i = 1, n do
    acc = acc + i * x                  -- accumulator: loop-carried
    x = y - x                          -- two slots feeding each other
    y = (i % 3 == 0) and 4 or y + 1    -- a non-arithmetic write: never pinned
    if acc > 1e6 then break end
  end
  local s = 0
  for i = 1, n do
    s = s + odd                        -- odd is a metatable'd table: the slow path writes s
  end
  local t = {}
  for i = 1, n do t[i] = i end
  local m = 0
  for i = n, 1, -1 do
    m = m * 2 % 1000 + t[i]            -- table reads, modulo, a negative step
    if m == 7 then m = -m end
  end
  local str = "5"
  for i = 1, 4 do str = str + i end    -- string coercion in a pinned slot
  local osr = 0
  for i = 1, 30000 do osr = (osr + i) % 65521 end  -- long enough for OSR into the body
  local upv = 0
  local bump = function() upv = upv + 100 end
  for i = 1, 3 do upv = upv + i end    -- a captured slot: never pinned
  bump()
  return acc, x, type(y), s, m, str, osr, upv
end
print("pinned", pinned(10, 5))
print("pinned", pcall(pinned, 10, vec))
