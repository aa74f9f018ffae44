-- Stops twice in keep_inner (called from keep_outer, from the main chunk):
-- first with everything compiled, then after vmtest.flush_jit() and a GC,
-- which free the code of the 80 generated chunks (160 functions, not on
-- the stack) and keep the three on the stack. keep_inner and keep_outer
-- are compiled before the fillers so that they share a packed group with
-- freed functions (which the repack must drop).
local phase = 0

local function keep_inner()
  if phase == 1 then
    vmtest.stop_here()
    vmtest.flush_jit()
    vmtest.gc()
    vmtest.stop_here()
  end
  return 1
end

local function keep_outer()
  return keep_inner() + 1
end

keep_outer()
local fillers = {}
for i = 1, 80 do
  fillers[i] = assert(loadstring("return function(x) return x + " .. i .. " end", "filler" .. i))()
  fillers[i](i)
end
phase = 1
print(keep_outer())
