local a, b = ...
local t = {...}
local u = {1, ...}
local v = {..., 1}
print(...)
print(1, ...)
print((...))
local n = select("#", ...)
local function f(...)
  local x = ...
  local y, z = ...
  return ..., 1
end
local function g(...) local arg = 1 return arg end
local function h(a, b, ...) end
local function i(...) return #arg end
return ...
