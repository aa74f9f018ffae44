local function outer()
  local x = 1
  local function mid()
    local y = 2
    return function() x = x + 1; y = y + 1; return x + y end
  end
  return mid(), function() return x end
end
local inner, getx = outer()
print(inner(), inner(), getx())
-- a closure created after the variable goes out of scope keeps its value
local saved
do local z = 99; saved = function() return z end end
print(saved())
