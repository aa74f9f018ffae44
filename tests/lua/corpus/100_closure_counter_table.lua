local function make()
  local count = 0
  local obj = {}
  function obj.inc() count = count + 1 end
  function obj.get() return count end
  return obj
end
local a, b = make(), make()
a.inc(); a.inc(); b.inc()
print(a.get(), b.get())
-- upvalues shared between sibling closures created in the same iteration
local getters, setters = {}, {}
for i = 1, 3 do
  local v = i * 100
  getters[i] = function() return v end
  setters[i] = function(x) v = x end
end
setters[2](7)
print(getters[1](), getters[2](), getters[3]())
