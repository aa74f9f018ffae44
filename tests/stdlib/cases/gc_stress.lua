-- Library calls that run Lua code (and so the GC) while holding values:
-- gsub/gmatch callbacks, sort comparators, foreach, and unreferenced files.
local function garbage(n)
  local t = {}
  for i = 1, n do t[i] = {i, tostring(i) .. "x"} end
  return #t
end
local s = string.rep("abc def ghi ", 200)
local total = 0
local r, n = string.gsub(s, "(%a+)", function(w)
  total = total + garbage(20)
  return w:upper() .. tostring(#w)
end)
print(#r, n, total, r:sub(1, 40))
r = string.gsub(s, "%a+", setmetatable({}, {__index = function(t, k) garbage(10); return k .. "!" end}))
print(#r, r:sub(1, 30))
local count = 0
for a, b in string.gmatch(s, "(%a)(%a+)") do
  garbage(5)
  count = count + #a + #b
end
print(count)
local t = {}
for i = 1, 300 do t[i] = tostring((i * 7919) % 1000) .. "k" end
table.sort(t, function(a, b)
  garbage(3)
  return a < b
end)
print(t[1], t[150], t[300])
local keys = 0
table.foreach({a = 1, b = 2, c = 3, d = 4}, function(k, v) garbage(50); keys = keys + v end)
print(keys)
local name = os.tmpname()
local f = io.open(name, "w")
for i = 1, 50 do f:write("line ", i, "\n") end
f:close()
local lines = 0
for round = 1, 30 do
  local h = io.open(name)  -- left for the GC to close
  lines = lines + #h:read("*a")
  for l in io.lines(name) do lines = lines + 1 end
  garbage(100)
end
collectgarbage()
collectgarbage()
print(lines)
os.remove(name)
