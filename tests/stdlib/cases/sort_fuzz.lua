-- table.sort must call the comparator exactly as Lua 5.1's quicksort does,
-- including with inconsistent comparators (same results or same errors).
local seed = 987
local function rnd(n)
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed % n + 1
end
for round = 1, 60 do
  local n = rnd(40) - 1
  local t = {}
  for i = 1, n do t[i] = rnd(round % 3 == 0 and 5 or 100) end
  local calls = 0
  local mode = round % 4
  local cmp
  if mode == 0 then
    cmp = nil
  elseif mode == 1 then
    cmp = function(a, b) calls = calls + 1; return a > b end
  elseif mode == 2 then
    cmp = function(a, b) calls = calls + 1; return a <= b end  -- invalid order function
  else
    cmp = function(a, b) calls = calls + 1; return rnd(2) == 1 end  -- random answers
  end
  local ok, msg = pcall(table.sort, t, cmp)
  print(round, n, ok, ok or msg, calls, table.concat(t, " "))
end
-- Holes and non-sequence keys in insert/remove.
local t = {1, 2, nil, 4}
table.insert(t, 2, "x")
print(#t, t[1], t[2], t[3], t[4], t[5])
t = {n = 3, 10, 20}
print(table.remove(t, 1), t[1], t[2], t.n)
t = {}
table.insert(t, 0, "zero")
print(t[0], #t)
t = {1, 2, 3}
table.insert(t, -1, "neg")
print(t[-1], t[0], t[1], t[2], t[3], t[4])
