local function track(t)
  local log = {}
  local proxy = setmetatable({}, {
    __index = function(_, k) log[#log + 1] = "get " .. tostring(k); return t[k] end,
    __newindex = function(_, k, v) log[#log + 1] = "set " .. tostring(k); t[k] = v end,
  })
  return proxy, log
end
local p, log = track({a = 1})
local _ = p.a
p.b = 2
p.a = 3
print(p.a, p.b)
print(table.concat(log, ", "))
