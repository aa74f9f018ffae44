local a = 1
local function f()
  local b = 2
  local function g()
    local c = 3
    local function h()
      a = a + b + c
      return a, b, c
    end
    return h
  end
  return g
end
local counter = function()
  local n = 0
  return function() n = n + 1; return n end
end
local x, y = 1, 2
local function swap() x, y = y, x end
local function z() return x, x, y, a end
