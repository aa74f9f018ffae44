-- String interning under churn: many strings made, most dropped and
-- collected (their intern slots freed while others stay), then made again.
-- Equal strings must stay one string: equal contents find the same table
-- key, and a string made again after its twin was kept is that twin.
local keep = {}
local seen = {}
local made = 0
for round = 1, 4 do
  local batch = {}
  for i = 1, 30000 do
    local s = "k" .. (i * 7919 + round * 104729) % 50021 .. "_" .. (i % 97)
    made = made + 1
    batch[#batch + 1] = s
    if i % 3 == 0 then keep[s] = (keep[s] or 0) + 1 end
  end
  batch = nil
  collectgarbage()
  collectgarbage()
  -- Make every kept string again from its pieces: each must be a key already.
  local found, missing = 0, 0
  for i = 1, 30000, 3 do
    local j = i + 2
    local s = "k" .. (j * 7919 + round * 104729) % 50021 .. "_" .. (j % 97)
    if keep[s] then found = found + 1 else missing = missing + 1 end
  end
  local distinct = 0
  for _ in pairs(keep) do distinct = distinct + 1 end
  print(round, found, missing, distinct)
end
-- Keys made by different routes (concatenation, sub, format, rep) meet.
local t = {}
for i = 1, 2000 do
  t["abc" .. i] = i
end
local hits = 0
for i = 1, 2000 do
  local a = ("xxabc" .. i .. "yy"):sub(3, -3)
  local b = string.format("abc%d", i)
  if t[a] == i and t[b] == i and rawequal(a, b) then hits = hits + 1 end
end
print("routes", hits)
-- Drop everything, collect, and make a few again.
keep, t = nil, nil
collectgarbage()
local again = {}
for i = 1, 100 do again["abc" .. i] = true end
local n = 0
for k in pairs(again) do if again[("abc" .. k:sub(4))] then n = n + 1 end end
print("again", n, made)
