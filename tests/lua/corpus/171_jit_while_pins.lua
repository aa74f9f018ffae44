-- while and repeat loops whose slots the JIT keeps in registers ("pins"),
-- and comparisons fused with the jump after them. Every way a pinned slot
-- can change inside such a loop, or be entered, must still be seen.

-- The plain shapes: counters, limits and sums read every iteration.
local function while_sum(n)
  local i, s = 1, 0
  while i <= n do
    s = s + i * 2
    i = i + 1
  end
  return s, i
end
print("while", while_sum(100))

local function repeat_sum(n)
  local i, s = 0, 0.5
  repeat
    i = i + 1
    s = s + i / 4
  until i >= n
  return s, i
end
print("repeat", repeat_sum(100))

-- A pinned slot written by a metamethod result: the pin must follow.
local mt = {__add = function(a, b) return 1000 end}
local function meta_write(n)
  local t = setmetatable({}, mt)
  local i, x = 0, 0
  while i < n do
    i = i + 1
    if i == 3 then x = t + 1 else x = x + i end
  end
  return x
end
print("meta", meta_write(6))

-- A string that coerces in arithmetic, and a comparison that errors.
local function coerce(n)
  local i, s = 1, "10"
  while i < n do
    s = s + i
    i = i + 1
  end
  return s
end
print("coerce", coerce(5))
print("cmp error", pcall(function()
  local i, lim = 1, {}
  while i < lim do i = i + 1 end
end))

-- break leaves the loop with the pins' values written to the slots.
local function with_break(n)
  local i, s = 0, 0
  while true do
    i = i + 1
    if i > n then break end
    s = s + i
  end
  return i, s
end
print("break", with_break(50))

-- A loop whose slot is overwritten by a table read, a global, a nil.
local g_limit = 7
local function bad_writes(t)
  local i, v, k = 1, 0, nil
  while i <= #t do
    v = t[i]
    k = g_limit
    if v == 3 then v = nil end
    i = i + 1
  end
  return i, v, k
end
print("bad writes", bad_writes({1, 2, 3, 4}))

-- Nested inside a for loop (the for loop is not pinned, the while is).
local function nested(n)
  local total = 0
  for j = 1, n do
    local i = 0
    while i < j do
      i = i + 1
      total = total + i
    end
  end
  return total
end
print("nested", nested(30))

-- Captured by a closure: never pinned, changes are seen.
local function captured(n)
  local i = 0
  local bump = function() i = i + 10 end
  local s = 0
  while i < n do
    i = i + 1
    s = s + i
    if i == 5 then bump() end
  end
  return i, s
end
print("captured", captured(40))

-- Long enough for OSR into a while loop from the interpreter.
local function osr(n)
  local i, acc = 0, 0
  while i < n do
    i = i + 1
    acc = (acc + i * 3) % 1000003
  end
  return acc
end
print("osr", osr(300000))

-- repeat with the condition on a local of the body.
local function repeat_local(n)
  local i, out = 0, 0
  repeat
    i = i + 1
    local done = i * i >= n
    out = out + 1
  until done
  return i, out
end
print("repeat local", repeat_local(1000))

-- Fused tests: every comparison in both senses, with constants and NaN.
local nan = 0 / 0
local function cmp(a, b)
  local r = {}
  if a == b then r[#r + 1] = "eq" end
  if a ~= b then r[#r + 1] = "ne" end
  if a < b then r[#r + 1] = "lt" end
  if a <= b then r[#r + 1] = "le" end
  if not (a < b) then r[#r + 1] = "nlt" end
  if not (a <= b) then r[#r + 1] = "nle" end
  if a == 1 then r[#r + 1] = "eq1" end
  if a ~= "x" then r[#r + 1] = "nex" end
  if a then r[#r + 1] = "truthy" end
  if not a then r[#r + 1] = "falsy" end
  return table.concat(r, " ")
end
print("cmp 1 2", cmp(1, 2))
print("cmp 2 2", cmp(2, 2))
print("cmp 1 1", cmp(1, 1))
print("cmp a b", cmp("a", "b"))
print("cmp nan", cmp(nan, nan))
print("cmp false", pcall(cmp, false, false))
print("cmp nil", pcall(cmp, nil, 1))

-- and/or chains (TESTSET and fused TEST) in a loop condition.
local function chains(t)
  local i, n = 1, 0
  while t[i] and (t[i] > 2 or t[i] == 0) do
    n = n + t[i]
    i = i + 1
  end
  return i, n
end
print("chains", chains({5, 4, 0, 3, 1, 9}))
