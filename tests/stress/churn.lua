-- Code churn for the snapshot stress test: for SECONDS seconds, load new
-- chunks (each compiled at --jit-threshold=0), call them, drop them, and
-- collect garbage every 50 chunks so their code is freed, the packed debug
-- info of the freed code is rebuilt and stable ranges get compressed.
local seconds = tonumber(arg[1]) or 30
local stop = os.time() + seconds
local i = 0
local keep = {}
while os.time() < stop do
  i = i + 1
  local f = loadstring("local function g(x) return x + " .. i .. " end return function(y) return g(y) * 2 end")
  local h = f()
  for j = 1, 3 do h(j) end
  -- Some functions live longer than a GC cycle, so groups hold live and freed code.
  if i % 7 == 0 then keep[#keep + 1] = h end
  if #keep > 40 then table.remove(keep, 1) end
  if i % 50 == 0 then collectgarbage() end
end
print("chunks " .. i)
