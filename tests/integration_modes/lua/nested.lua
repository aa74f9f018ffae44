-- Three nested compiled functions (outer -> middle -> innermost) that stop
-- in vmtest.stop_here(). They are compiled first (a call that does not
-- stop), then 80 generated chunks (160 functions), so that with packing on
-- the three share a packed (or compressed) group with the first fillers;
-- then the second call stops. Tests name the functions by the line of
-- their `local function` statement: keep each on a line of its own.
local stop = false

local function innermost()
  if stop then
    vmtest.stop_here()
  end
  return 1
end

local function middle()
  return innermost() + 1
end

local function outer()
  return middle() + 1
end

outer()
for i = 1, 80 do
  local filler = assert(loadstring("return function(x) return x * " .. i .. " end", "filler" .. i))()
  filler(i)
end
stop = true
print(outer())
