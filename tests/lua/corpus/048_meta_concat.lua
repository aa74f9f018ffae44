local mt = {__concat = function(a, b)
  local av = type(a) == "table" and a.s or a
  local bv = type(b) == "table" and b.s or b
  return av .. "+" .. bv
end}
local x = setmetatable({s = "X"}, mt)
print(x .. "y", "y" .. x, x .. x, 1 .. x)
print("a" .. "b" .. x .. "c")
