-- cd: collision detection between simulated aircraft (Are-We-Fast-Yet CD):
-- vectors as objects with arithmetic methods, a red-black tree for the voxel map
-- and the aircraft state, and a recursive voxel flood fill per motion.
local harness = require "harness"
local n = harness.size(150)

local kMinX, kMaxX, kMinY, kMaxY, kMinZ, kMaxZ = 0, 1000, 0, 1000, 0, 10
local kProximityRadius = 1
local kGoodVoxelSize = kProximityRadius * 2

local function class()
  local c = {}
  c.__index = c
  return c
end

local Vector2D = class()
function Vector2D.new(x, y) return setmetatable({x = x, y = y}, Vector2D) end
function Vector2D:plus(o) return Vector2D.new(self.x + o.x, self.y + o.y) end
function Vector2D:minus(o) return Vector2D.new(self.x - o.x, self.y - o.y) end
local function compare_numbers(a, b)
  if a == b then return 0 end
  if a < b then return -1 end
  if a > b then return 1 end
  if a == a then return 1 end -- b is NaN
  return -1
end
function Vector2D.compare(a, b)
  local r = compare_numbers(a.x, b.x)
  if r ~= 0 then return r end
  return compare_numbers(a.y, b.y)
end

local Vector3D = class()
function Vector3D.new(x, y, z) return setmetatable({x = x, y = y, z = z}, Vector3D) end
function Vector3D:plus(o) return Vector3D.new(self.x + o.x, self.y + o.y, self.z + o.z) end
function Vector3D:minus(o) return Vector3D.new(self.x - o.x, self.y - o.y, self.z - o.z) end
function Vector3D:dot(o) return self.x * o.x + self.y * o.y + self.z * o.z end
function Vector3D:squared_magnitude() return self:dot(self) end
function Vector3D:magnitude() return math.sqrt(self:squared_magnitude()) end
function Vector3D:times(k) return Vector3D.new(self.x * k, self.y * k, self.z * k) end

-- Left-leaning red-black tree: put returns the previous value, like the suite's tree.
local RedBlackTree = class()
function RedBlackTree.new(compare) return setmetatable({root = nil, compare = compare}, RedBlackTree) end
local function is_red(h) return h ~= nil and h.red end
local function rotate_left(h)
  local x = h.right
  h.right, x.left = x.left, h
  x.red, h.red = h.red, true
  return x
end
local function rotate_right(h)
  local x = h.left
  h.left, x.right = x.right, h
  x.red, h.red = h.red, true
  return x
end
local function flip_colors(h)
  h.red = not h.red
  h.left.red = not h.left.red
  h.right.red = not h.right.red
end
function RedBlackTree:put(key, value)
  local old
  local compare = self.compare
  local function insert(h)
    if h == nil then return {key = key, value = value, red = true} end
    local c = compare(key, h.key)
    if c < 0 then h.left = insert(h.left)
    elseif c > 0 then h.right = insert(h.right)
    else old = h.value; h.value = value end
    if is_red(h.right) and not is_red(h.left) then h = rotate_left(h) end
    if is_red(h.left) and is_red(h.left.left) then h = rotate_right(h) end
    if is_red(h.left) and is_red(h.right) then flip_colors(h) end
    return h
  end
  self.root = insert(self.root)
  self.root.red = false
  return old
end
function RedBlackTree:get(key)
  local h = self.root
  while h do
    local c = self.compare(key, h.key)
    if c == 0 then return h.value end
    if c < 0 then h = h.left else h = h.right end
  end
  return nil
end
function RedBlackTree:for_each(fn)
  local function walk(h)
    if h == nil then return end
    walk(h.left)
    fn(h.key, h.value)
    walk(h.right)
  end
  walk(self.root)
end

local function compare_strings(a, b)
  if a == b then return 0 end
  if a < b then return -1 end
  return 1
end

local Motion = class()
function Motion.new(callsign, pos_one, pos_two)
  return setmetatable({callsign = callsign, pos_one = pos_one, pos_two = pos_two}, Motion)
end
function Motion:delta() return self.pos_two:minus(self.pos_one) end
function Motion:find_intersection(other)
  local init1, init2 = self.pos_one, other.pos_one
  local vec1, vec2 = self:delta(), other:delta()
  local radius = kProximityRadius
  local a = vec2:minus(vec1):squared_magnitude()
  if a ~= 0 then
    local b = 2 * init1:minus(init2):dot(vec1:minus(vec2))
    local c = -radius * radius + init2:minus(init1):squared_magnitude()
    local discr = b * b - 4 * a * c
    if discr < 0 then return nil end
    local v1 = (-b - math.sqrt(discr)) / (2 * a)
    local v2 = (-b + math.sqrt(discr)) / (2 * a)
    if v1 <= v2 and ((v1 <= 1 and 1 <= v2) or (v1 <= 0 and 0 <= v2) or (0 <= v1 and v2 <= 1)) then
      local v = v1 <= 0 and 0 or v1
      local result1 = init1:plus(vec1:times(v))
      local result2 = init2:plus(vec2:times(v))
      local result = result1:plus(result2):times(0.5)
      if result.x >= kMinX and result.x <= kMaxX and result.y >= kMinY and result.y <= kMaxY
         and result.z >= kMinZ and result.z <= kMaxZ then
        return result
      end
    end
    return nil
  end
  local dist = init2:minus(init1):magnitude()
  if dist <= radius then return init1:plus(init2):times(0.5) end
  return nil
end

local kHorizontal = Vector2D.new(kGoodVoxelSize, 0)
local kVertical = Vector2D.new(0, kGoodVoxelSize)

local function voxel_hash(position)
  local x_div = math.floor(position.x / kGoodVoxelSize)
  local y_div = math.floor(position.y / kGoodVoxelSize)
  local x, y = kGoodVoxelSize * x_div, kGoodVoxelSize * y_div
  if position.x < 0 then x = x - kGoodVoxelSize end
  if position.y < 0 then y = y - kGoodVoxelSize end
  return Vector2D.new(x, y)
end

local function is_in_voxel(voxel, motion)
  if voxel.x > kMaxX or voxel.x < kMinX or voxel.y > kMaxY or voxel.y < kMinY then return false end
  local init, fin = motion.pos_one, motion.pos_two
  local v_s, r = kGoodVoxelSize, kProximityRadius / 2
  local v_x, x0, xv = voxel.x, init.x, fin.x - init.x
  local v_y, y0, yv = voxel.y, init.y, fin.y - init.y
  local low_x = (v_x - r - x0) / xv
  local high_x = (v_x + v_s + r - x0) / xv
  if xv < 0 then low_x, high_x = high_x, low_x end
  local low_y = (v_y - r - y0) / yv
  local high_y = (v_y + v_s + r - y0) / yv
  if yv < 0 then low_y, high_y = high_y, low_y end
  return ((xv == 0 and v_x <= x0 + r and x0 - r <= v_x + v_s) or
          ((low_x <= 1 and 1 <= high_x) or (low_x <= 0 and 0 <= high_x) or (0 <= low_x and high_x <= 1))) and
         ((yv == 0 and v_y <= y0 + r and y0 - r <= v_y + v_s) or
          ((low_y <= 1 and 1 <= high_y) or (low_y <= 0 and 0 <= high_y) or (0 <= low_y and high_y <= 1))) and
         (xv == 0 or yv == 0 or (low_x <= high_y and high_x >= low_y) or (low_x <= low_y and high_x >= high_y) or
          (low_x >= low_y and high_x <= high_y))
end

local function recurse(voxel_map, seen, next_voxel, motion)
  if not is_in_voxel(next_voxel, motion) then return end
  if seen:put(next_voxel, true) then return end
  local list = voxel_map:get(next_voxel)
  if list then list[#list + 1] = motion else voxel_map:put(next_voxel, {motion}) end
  recurse(voxel_map, seen, next_voxel:minus(kHorizontal), motion)
  recurse(voxel_map, seen, next_voxel:plus(kHorizontal), motion)
  recurse(voxel_map, seen, next_voxel:minus(kVertical), motion)
  recurse(voxel_map, seen, next_voxel:plus(kVertical), motion)
  recurse(voxel_map, seen, next_voxel:minus(kHorizontal):minus(kVertical), motion)
  recurse(voxel_map, seen, next_voxel:minus(kHorizontal):plus(kVertical), motion)
  recurse(voxel_map, seen, next_voxel:plus(kHorizontal):minus(kVertical), motion)
  recurse(voxel_map, seen, next_voxel:plus(kHorizontal):plus(kVertical), motion)
end

local function reduce_collision_set(motions)
  local voxel_map = RedBlackTree.new(Vector2D.compare)
  for _, m in ipairs(motions) do
    recurse(voxel_map, RedBlackTree.new(Vector2D.compare), voxel_hash(m.pos_one), m)
  end
  local result = {}
  voxel_map:for_each(function(_, list) if #list > 1 then result[#result + 1] = list end end)
  return result
end

local CollisionDetector = class()
function CollisionDetector.new() return setmetatable({state = RedBlackTree.new(compare_strings)}, CollisionDetector) end
function CollisionDetector:handle_new_frame(frame)
  local motions = {}
  local seen = RedBlackTree.new(compare_strings)
  for _, aircraft in ipairs(frame) do
    local new_position = aircraft.position
    local old_position = self.state:put(aircraft.callsign, new_position)
    seen:put(aircraft.callsign, true)
    if old_position == nil then old_position = new_position end
    motions[#motions + 1] = Motion.new(aircraft.callsign, old_position, new_position)
  end
  local gone = 0
  self.state:for_each(function(k) if not seen:get(k) then gone = gone + 1 end end)
  if gone > 0 then error("cd: aircraft never disappear in this simulation") end
  local collisions = 0
  for _, reduced in ipairs(reduce_collision_set(motions)) do
    for i = 1, #reduced do
      for j = i + 1, #reduced do
        if reduced[i]:find_intersection(reduced[j]) then collisions = collisions + 1 end
      end
    end
  end
  return collisions
end

local function simulate(num_aircraft, time)
  local frame = {}
  for i = 0, num_aircraft - 1, 2 do
    frame[#frame + 1] = {callsign = "foo" .. i, position = Vector3D.new(time, math.cos(time) * 2 + i * 3, 10)}
    frame[#frame + 1] = {callsign = "bar" .. i, position = Vector3D.new(time, math.sin(time) * 2 + i * 3, 10)}
  end
  return frame
end

local function benchmark(num_aircraft)
  local frames = 100
  local detector = CollisionDetector.new()
  local actual = 0
  for i = 0, frames - 1 do
    actual = actual + detector:handle_new_frame(simulate(num_aircraft, i / 10))
  end
  return actual
end

harness.run("cd", 1, function() return benchmark(n) end)
