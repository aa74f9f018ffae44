local log = {}
local t = setmetatable({}, {__newindex = function(tbl, k, v) log[#log + 1] = k; rawset(tbl, k, v * 2) end})
t.x = 1
t.x = 5 -- existing key: no metamethod
t.y = 3
print(t.x, t.y, table.concat(log, ","))
local store = {}
local proxy = setmetatable({}, {__newindex = store, __index = store})
proxy.a = 10
print(rawget(proxy, "a"), store.a, proxy.a)
local ro = setmetatable({}, {__newindex = function() error("read-only table", 2) end})
print(pcall(function() ro.z = 1 end))
