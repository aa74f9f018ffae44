-- towers (Are-We-Fast-Yet): towers of Hanoi with discs as linked objects.
local harness = require "harness"
local n = harness.size(450)

local TowersDisk = {}
TowersDisk.__index = TowersDisk
function TowersDisk.new(size) return setmetatable({size = size, next = nil}, TowersDisk) end

local Towers = {}
Towers.__index = Towers

function Towers.new() return setmetatable({piles = nil, moves_done = 0}, Towers) end

function Towers:push_disk(disk, pile)
  local top = self.piles[pile]
  if top and disk.size >= top.size then error("Cannot put a big disk on a smaller one") end
  disk.next = top
  self.piles[pile] = disk
end

function Towers:pop_disk_from(pile)
  local top = self.piles[pile]
  if top == nil then error("Attempting to remove a disk from an empty pile") end
  self.piles[pile] = top.next
  top.next = nil
  return top
end

function Towers:move_top_disk(from, to)
  self:push_disk(self:pop_disk_from(from), to)
  self.moves_done = self.moves_done + 1
end

function Towers:build_tower_at(pile, disks)
  for i = disks, 0, -1 do self:push_disk(TowersDisk.new(i), pile) end
end

function Towers:move_disks(disks, from, to)
  if disks == 1 then
    self:move_top_disk(from, to)
  else
    local other = 6 - from - to
    self:move_disks(disks - 1, from, other)
    self:move_top_disk(from, to)
    self:move_disks(disks - 1, other, to)
  end
end

harness.run("towers", n, function()
  local t = Towers.new()
  t.piles = {}
  t:build_tower_at(1, 13)
  t:move_disks(13, 1, 2)
  return t.moves_done
end, function(r) return r == 8191 end)
