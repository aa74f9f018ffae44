local a, b, c
local d
local e, f = nil
local g = nil
local h; local i
print(a)
local j, k, l
local m = nil
local n
local function f1()
  local x, y
  local z
  return x
end
local function f2(p)
  local x
  if p then local q end
  local r
end
