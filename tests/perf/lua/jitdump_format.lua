-- Exercises what the jitdump writer must get right, run with
-- --jit-threshold=0 (every function compiled before its first call):
-- functions of several sizes, code freed by the collector and its
-- addresses reused, the same source compiled twice under the same chunk
-- name (identical machine code and name: the writer must still make the
-- bytes differ, or perf inject's build-ids collide), and two identical
-- functions live at once.
local function tiny() return 1 end

local function medium(n)
  local t = {}
  for i = 1, n do t[i] = i * 2 end
  local s = 0
  for i = 1, n do s = s + t[i] end
  return s
end

local function large(a, b, c)
  local x = 0
  for i = 1, 50 do
    if i % 3 == 0 then x = x + a elseif i % 3 == 1 then x = x - b else x = x * c % 1000 end
    if x > 100000 then x = x / 2 end
  end
  return x, tostring(x), string.rep("a", 3)
end

tiny()
medium(100)
large(1, 2, 3)

local source = "local function twin(n) return n * 3 + 1 end return twin"
for round = 1, 4 do
  -- Same text, same chunk name: the collector frees each copy before the next.
  local twin = assert(loadstring(source, "@twin.lua"))()
  twin(round)
  twin = nil
  collectgarbage("collect")
  collectgarbage("collect")
end

-- Two identical copies live at the same time.
local a = assert(loadstring(source, "@twin.lua"))()
local b = assert(loadstring(source, "@twin.lua"))()
print(a(1) + b(2))
