local declared = {}
setmetatable(_G, {
  __newindex = function(t, k, v) declared[k] = true; rawset(t, k, v) end,
  __index = function(t, k) if not declared[k] then error("undeclared global '" .. k .. "'", 2) end end,
})
newglobal = 1
print(newglobal)
print(pcall(function() return nosuchglobal end))
setmetatable(_G, nil)
print(nosuchglobal)
