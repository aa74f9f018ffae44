local function outer()
  local x = 1
  local function mid()
    local y = 2
    local function inner()
      local z = 3
      return function() return x + y + z end
    end
    return inner
  end
  return mid
end
local function sibling1() return outer end
local function sibling2() return sibling1, outer end
