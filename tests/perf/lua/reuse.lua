-- Address reuse: twelve phases, each compiling a different hot function (own
-- chunk name, own constant), running it for 0.12 s of CPU, then dropping it
-- so that the collector frees its code. With a small code cache the next
-- phase's function is placed where the previous one was, so perf must tell
-- them apart by time, which a perf map cannot do and jitdump can.
local template = [[
local k = %d
local function work_%d(n)
  local s = 0
  for i = 1, n do s = (s + i * k) %% 1000003 end
  return s
end
return work_%d
]]

local seconds_each = 0.12
for phase = 1, 12 do
  -- "@phaseN.lua" names the chunk like a file: work_N@phaseN.lua:2.
  local f = assert(loadstring(string.format(template, phase, phase, phase), "@phase" .. phase .. ".lua"))()
  local start = os.clock()
  while os.clock() - start < seconds_each do f(10000) end
  f = nil
  collectgarbage("collect")
  collectgarbage("collect")
end
print("done")
