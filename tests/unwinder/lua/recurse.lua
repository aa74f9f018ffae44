-- Recursion DEPTH deep (a global set with jitvm -e 'DEPTH=N'; default 10),
-- stopping in vmtest.stop_here() at the bottom. Not a tail call, so every
-- level keeps its frame.
local depth = DEPTH or 10

local function down(n)
  if n <= 1 then
    vmtest.stop_here()
    return 0
  end
  local r = down(n - 1)
  return r + 1
end

print(down(depth))
