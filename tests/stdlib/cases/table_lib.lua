-- table.concat/insert/remove/sort/getn/maxn/setn/foreach/foreachi.
local function err(f)
  local ok, msg = pcall(f)
  print(ok, msg)
end
local function dump(t, n)
  local parts = {}
  for i = 1, n or #t do parts[#parts + 1] = tostring(t[i]) end
  return "{" .. table.concat(parts, ",") .. "}"
end

print(table.concat({1, 2, 3}), table.concat({"a", "b", "c"}, ", "))
print(table.concat({1, 2, 3, 4, 5}, "-", 2, 4), table.concat({}, "x"), table.concat({1, 2}, "x", 3))
print(table.concat({1.5, "x", 10}, " "), table.concat({"a"}, ",", 1, 1))
err(function() return table.concat({1, {}, 3}) end)
err(function() return table.concat({1, 2}, ",", 1, 3) end)
err(function() return table.concat() end)
err(function() return table.concat({}, {}) end)

local t = {}
table.insert(t, "a")
table.insert(t, "b")
table.insert(t, 1, "c")
table.insert(t, 2, "d")
print(dump(t))
table.insert(t, 7, "far")
print(dump(t, 7), #t)
err(function() return table.insert(t) end)
err(function() return table.insert(t, 1, 2, 3) end)
err(function() return table.insert(nil, 1) end)
err(function() return table.insert(t, "x", 1) end)

t = {1, 2, 3, 4, 5}
print(table.remove(t), dump(t))
print(table.remove(t, 1), dump(t))
print(table.remove(t, 2), dump(t))
print(table.remove(t, 10), dump(t))
print(table.remove({}), select('#', table.remove({})))
print(select('#', table.remove({}, 5)))

print(table.getn({1, 2, 3}), table.getn({}), table.maxn({1, 2, nil, 4}), table.maxn({[10] = 1, [2.5] = 1, x = 1}))
print(table.maxn({}), table.maxn({[-5] = 1}))
err(function() return table.getn(1) end)
err(function() return table.setn({}, 1) end)

table.foreachi({"x", "y", "z"}, function(i, v) io.write(i, "=", v, " ") end)
print()
print(table.foreachi({10, 20, 30}, function(i, v) if v == 20 then return "stop" .. i end end))
local keys = {}
table.foreach({a = 1, b = 2, c = 3}, function(k, v) keys[#keys + 1] = k .. v end)
table.sort(keys)
print(table.concat(keys, " "))
print(table.foreach({x = 5}, function(k, v) return v * 2 end))
err(function() return table.foreach({}, 1) end)

t = {5, 2, 8, 1, 9, 3, 7, 4, 6, 10}
table.sort(t)
print(dump(t))
table.sort(t, function(a, b) return a > b end)
print(dump(t))
t = {"banana", "apple", "cherry", "date"}
table.sort(t)
print(dump(t))
t = {}
for i = 1, 200 do t[i] = (i * 7919) % 211 end
table.sort(t)
local ok = true
for i = 2, #t do if t[i - 1] > t[i] then ok = false end end
print("sorted 200", ok, t[1], t[200])
-- The comparator sees the same calls as in Lua 5.1's quicksort.
local calls = {}
t = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5}
table.sort(t, function(a, b) calls[#calls + 1] = a .. "<" .. b; return a < b end)
print(#calls, table.concat(calls, " "))
print(dump(t))
table.sort({})
table.sort({1})
err(function() table.sort({3, 1, 2}, function(a, b) return true end) end)
err(function() local u = {} for i = 1, 20 do u[i] = 21 - i end table.sort(u, function(a, b) return true end) end)
err(function() table.sort({1, "x", 2}) end)
err(function() table.sort({1, 2}, 3) end)
err(function() table.sort() end)
-- Sorting with a comparator that errors.
err(function() table.sort({3, 2, 1}, function(a, b) error("boom") end) end)
