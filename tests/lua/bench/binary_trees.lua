-- binary-trees: allocate and walk many short-lived complete binary trees.
local harness = require "harness"
local n = harness.size(14)

local function bottom_up(depth)
  if depth == 0 then return {} end
  depth = depth - 1
  return {bottom_up(depth), bottom_up(depth)}
end

local function check(tree)
  if tree[1] then return 1 + check(tree[1]) + check(tree[2]) end
  return 1
end

local min_depth = 4
local max_depth = math.max(min_depth + 2, n)
local stretch = max_depth + 1
io.write("stretch tree of depth ", stretch, "\t check: ", check(bottom_up(stretch)), "\n")
local long_lived = bottom_up(max_depth)
for depth = min_depth, max_depth, 2 do
  local iters = 2 ^ (max_depth - depth + min_depth)
  local sum = 0
  for _ = 1, iters do sum = sum + check(bottom_up(depth)) end
  io.write(string.format("%d\t trees of depth %d\t check: %d\n", iters, depth, sum))
end
io.write("long lived tree of depth ", max_depth, "\t check: ", check(long_lived), "\n")
