-- a handled error inside a metamethod does not leak out
local t = setmetatable({}, {__index = function(_, k)
  local ok, e = pcall(error, "inner " .. k)
  return e
end})
print(t.x)
print(t[1])
