-- Small collection library in the spirit of the SOM-derived helpers that the
-- Are-We-Fast-Yet benchmarks share: growable Vector, Dictionary, Set, and the
-- portable Random generator every implementation agrees on.
local som = {}

local Vector = {}
Vector.__index = Vector
som.Vector = Vector

function Vector.new(size)
  return setmetatable({storage = {}, first_idx = 1, last_idx = 1, capacity = size or 50}, Vector)
end

function Vector.with(elem)
  local v = Vector.new(1)
  v:append(elem)
  return v
end

function Vector:at(idx)
  if idx > self.last_idx - self.first_idx then return nil end
  return self.storage[self.first_idx + idx - 1]
end

function Vector:at_put(idx, val)
  local i = self.first_idx + idx - 1
  self.storage[i] = val
  if i >= self.last_idx then self.last_idx = i + 1 end
end

function Vector:append(elem)
  self.storage[self.last_idx] = elem
  self.last_idx = self.last_idx + 1
end

function Vector:is_empty() return self.last_idx == self.first_idx end
function Vector:size() return self.last_idx - self.first_idx end

function Vector:each(fn)
  for i = self.first_idx, self.last_idx - 1 do fn(self.storage[i]) end
end

function Vector:has_some(fn)
  for i = self.first_idx, self.last_idx - 1 do
    if fn(self.storage[i]) then return true end
  end
  return false
end

function Vector:get_one(fn)
  for i = self.first_idx, self.last_idx - 1 do
    local e = self.storage[i]
    if fn(e) then return e end
  end
  return nil
end

function Vector:first()
  if self:is_empty() then return nil end
  return self.storage[self.first_idx]
end

function Vector:remove_first()
  if self:is_empty() then return nil end
  local e = self.storage[self.first_idx]
  self.storage[self.first_idx] = nil
  self.first_idx = self.first_idx + 1
  return e
end

function Vector:remove_last()
  if self:is_empty() then return nil end
  self.last_idx = self.last_idx - 1
  local e = self.storage[self.last_idx]
  self.storage[self.last_idx] = nil
  return e
end

function Vector:remove(obj)
  local kept, found = {}, false
  for i = self.first_idx, self.last_idx - 1 do
    local e = self.storage[i]
    if e == obj then found = true else kept[#kept + 1] = e end
  end
  self.storage, self.first_idx, self.last_idx = kept, 1, #kept + 1
  return found
end

function Vector:remove_all()
  self.storage, self.first_idx, self.last_idx = {}, 1, 1
end

function Vector:contains(obj)
  return self:has_some(function(e) return e == obj end)
end

function Vector:sort(less)
  local n = self:size()
  if n < 2 then return end
  local items = {}
  for i = 1, n do items[i] = self.storage[self.first_idx + i - 1] end
  table.sort(items, less)
  self.storage, self.first_idx, self.last_idx = items, 1, n + 1
end

-- Dictionary with explicit hashing of keys through a custom hash function, the way
-- the suite does it, so that the benchmark exercises table-of-bucket code paths.
local Dictionary = {}
Dictionary.__index = Dictionary
som.Dictionary = Dictionary
local kInitialBuckets = 16

function Dictionary.new(hash_fn)
  return setmetatable({buckets = {}, nbuckets = kInitialBuckets, count = 0,
                       hash_fn = hash_fn or function(k) return k end}, Dictionary)
end

function Dictionary:bucket_of(key)
  local h = self.hash_fn(key) % self.nbuckets + 1
  local b = self.buckets[h]
  if not b then b = {}; self.buckets[h] = b end
  return b
end

function Dictionary:at(key)
  local b = self:bucket_of(key)
  for i = 1, #b, 2 do
    if b[i] == key then return b[i + 1] end
  end
  return nil
end

function Dictionary:contains_key(key) return self:at(key) ~= nil end

function Dictionary:grow()
  local old = self.buckets
  self.buckets, self.nbuckets = {}, self.nbuckets * 2
  for _, b in pairs(old) do
    for i = 1, #b, 2 do
      local nb = self:bucket_of(b[i])
      nb[#nb + 1] = b[i]
      nb[#nb + 1] = b[i + 1]
    end
  end
end

function Dictionary:at_put(key, value)
  local b = self:bucket_of(key)
  for i = 1, #b, 2 do
    if b[i] == key then b[i + 1] = value; return end
  end
  b[#b + 1] = key
  b[#b + 1] = value
  self.count = self.count + 1
  if self.count > self.nbuckets * 3 then self:grow() end
end

function Dictionary:size() return self.count end

function Dictionary:keys()
  local v = Vector.new(self.count)
  for h = 1, self.nbuckets do
    local b = self.buckets[h]
    if b then for i = 1, #b, 2 do v:append(b[i]) end end
  end
  return v
end

function Dictionary:values()
  local v = Vector.new(self.count)
  for h = 1, self.nbuckets do
    local b = self.buckets[h]
    if b then for i = 2, #b, 2 do v:append(b[i]) end end
  end
  return v
end

local Set = {}
Set.__index = Set
som.Set = Set

function Set.new() return setmetatable({items = Vector.new()}, Set) end
function Set:add(obj) if not self:contains(obj) then self.items:append(obj) end end
function Set:contains(obj) return self.items:contains(obj) end
function Set:size() return self.items:size() end
function Set:each(fn) self.items:each(fn) end
function Set:remove_all() self.items:remove_all() end

-- The suite's portable pseudo random generator (16-bit LCG).
local Random = {}
Random.__index = Random
som.Random = Random

function Random.new() return setmetatable({seed = 74755}, Random) end

function Random:next()
  self.seed = (self.seed * 1309 + 13849) % 65536
  return self.seed
end

return som
