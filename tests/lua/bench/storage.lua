-- storage (Are-We-Fast-Yet): build a deep tree of arrays to stress allocation.
local harness = require "harness"
local som = require "som"
local n = harness.size(400)

local count
local function build_tree_depth(depth, random)
  count = count + 1
  if depth == 1 then
    local len = random:next() % 10 + 1
    local arr = {}
    for i = 1, len do arr[i] = false end
    return arr
  end
  local arr = {}
  for i = 1, 4 do arr[i] = build_tree_depth(depth - 1, random) end
  return arr
end

harness.run("storage", n, function()
  local random = som.Random.new()
  count = 0
  build_tree_depth(7, random)
  return count
end, function(r) return r == 5461 end)
