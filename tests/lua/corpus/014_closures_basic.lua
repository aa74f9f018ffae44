local function counter()
  local n = 0
  return function() n = n + 1; return n end
end
local c1, c2 = counter(), counter()
print(c1(), c1(), c1(), c2())
local function adder(x) return function(y) return x + y end end
print(adder(3)(4))
