local function pair()
  local v = 0
  local function get() return v end
  local function set(x) v = x end
  return get, set
end
local get, set = pair()
set(5)
print(get())
set(7)
print(get())
local a = 1
local f = function() a = a + 1 end
f(); f()
print(a)
