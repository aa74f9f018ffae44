local function outer(...)
  local args = {...}
  local n = select('#', ...)
  return function() return n, unpack(args, 1, n) end
end
print(outer(1, nil, 3)())
print(loadstring("function f(...) return function() return ... end end", "=closure"))
