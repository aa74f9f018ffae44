-- A burst of compiles that fills several 64 KiB code ranges (300 chunks of
-- two functions each), then a quiet JIT: no code loaded for over a second,
-- no code GC. Stops at the end. With --jit-debug-compress=on (the default)
-- the debug info of every range but the newest is compressed by then.
local fns = {}
for i = 1, 300 do
  local src = "local k = " .. i .. "\n" ..
    "return function(n)\n" ..
    "  local t, s = {}, 0\n" ..
    "  for j = 1, n do t[j] = j * k; s = s + t[j] % 7 end\n" ..
    "  if s > 1e9 then error('big') end\n" ..
    "  return s + #t\n" ..
    "end\n"
  fns[i] = assert(loadstring(src, "idle" .. i))()
end
local sum = 0
for i = 1, #fns do sum = sum + fns[i](i % 13 + 1) end
local t0 = os.clock()
while os.clock() - t0 < 1.5 do end
vmtest.stop_here()
print(sum)
