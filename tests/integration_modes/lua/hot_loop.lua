-- A compiled function spinning forever in a loop of inline code, called
-- from two other compiled functions, for debuggers that attach at a random
-- instruction. Prints "spinning" once the loop is about to run. The three
-- are compiled before 80 generated chunks so that they get packed.
local function spin(limit)
  local x, y = 0, 0
  while x ~= limit do
    x = x + 1
    if x % 3 == 0 then
      y = y + x
    end
  end
  return y
end

local function middle(limit)
  return spin(limit) + 1
end

local function outer(limit)
  return middle(limit) + 1
end

outer(10)
for i = 1, 80 do
  local filler = assert(loadstring("return function(x) return x - " .. i .. " end", "filler" .. i))()
  filler(i)
end
print("spinning")
io.stdout:flush()
-- x counts up from 0 and never equals -1.
print(outer(-1))
