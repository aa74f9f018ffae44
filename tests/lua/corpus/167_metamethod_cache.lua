-- Metamethods added to a metatable after a lookup found them absent must be
-- seen (the VM caches absent metamethods per metatable, as Lua 5.1's flags).
local mt = {}
local t = setmetatable({}, mt)
print("index before", t.x)
mt.__index = function(_, k) return "idx:" .. k end
print("index after", t.x)
mt.__index = nil
print("index removed", t.x)
mt.__index = {x = "from table"}
print("index table", t.x)

-- the same key stored again after being assigned nil (a dead key slot reused)
local mt2 = {}
local u = setmetatable({}, mt2)
mt2.__newindex = function() end
mt2.__newindex = nil
u.a = 1
print("newindex none", rawget(u, "a"))
mt2.__newindex = function(tt, k, v) rawset(tt, k, v * 10) end
u.b = 2
print("newindex after", rawget(u, "b"))

-- __eq, __add, __len-like arithmetic through the cache
local mt3 = {}
local a, b = setmetatable({}, mt3), setmetatable({}, mt3)
print("eq before", a == b)
mt3.__eq = function() return true end
print("eq after", a == b)
print("add before", pcall(function() return a + 1 end))
mt3.__add = function() return 42 end
print("add after", a + 1)

-- rawset also invalidates
local mt4 = {}
local w = setmetatable({}, mt4)
print("rawset before", w.q)
rawset(mt4, "__index", function() return "raw" end)
print("rawset after", w.q)

-- __mode set after the collector saw the table without it
local mt5 = {}
local weak = setmetatable({}, mt5)
collectgarbage()
mt5.__mode = "k"
weak[{}] = true
collectgarbage()
local n = 0
for _ in pairs(weak) do n = n + 1 end
print("weak keys after collect", n)

-- in a loop, so compiled code runs it too
for i = 1, 3 do
  local m = {}
  local o = setmetatable({}, m)
  local before = o.k
  m.__index = function() return i end
  print("loop", i, before, o.k)
end
