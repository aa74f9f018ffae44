local a, b = 1, 2
local function f()
  a = 3
  a, b = b, a
  a = a + 1
  b = {}
  b.x = a
  b[a] = b
  local c = a
  a = c
  g = a
end
