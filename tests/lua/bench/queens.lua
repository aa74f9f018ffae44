-- queens: count all solutions of the N-queens problem by backtracking (AWFY style
-- object with free-row/diagonal arrays, plus a full solution count).
local harness = require "harness"
local n = harness.size(12)

local Queens = {}
Queens.__index = Queens

function Queens.new(size)
  local self = setmetatable({size = size, count = 0}, Queens)
  self.free_rows, self.free_max, self.free_min, self.queen_rows = {}, {}, {}, {}
  for i = 1, size do self.free_rows[i] = true; self.queen_rows[i] = -1 end
  for i = 1, 2 * size do self.free_max[i] = true; self.free_min[i] = true end
  return self
end

function Queens:free(r, c)
  return self.free_rows[r] and self.free_max[c + r] and self.free_min[c - r + self.size]
end

function Queens:set(r, c, v)
  self.free_rows[r] = v
  self.free_max[c + r] = v
  self.free_min[c - r + self.size] = v
end

function Queens:place(c)
  if c > self.size then self.count = self.count + 1; return end
  for r = 1, self.size do
    if self:free(r, c) then
      self.queen_rows[r] = c
      self:set(r, c, false)
      self:place(c + 1)
      self:set(r, c, true)
    end
  end
end

local total = 0
for size = 4, n do
  local q = Queens.new(size)
  q:place(1)
  io.write(size, " queens: ", q.count, " solutions\n")
  total = total + q.count
end
io.write("total ", total, "\n")
