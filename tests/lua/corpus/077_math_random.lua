-- the sequence is implementation-defined: check only ranges and determinism
math.randomseed(42)
local a = {}
for i = 1, 100 do a[i] = math.random() end
math.randomseed(42)
local same = true
for i = 1, 100 do if math.random() ~= a[i] then same = false end end
print(same)
local ok = true
for i = 1, 1000 do
  local x = math.random(10)
  local y = math.random(5, 7)
  local z = math.random()
  if x < 1 or x > 10 or x ~= math.floor(x) then ok = false end
  if y < 5 or y > 7 then ok = false end
  if z < 0 or z >= 1 then ok = false end
end
print(ok)
print((pcall(math.random, 2, 1)))
