-- ackermann: deep non-tail recursion.
local harness = require "harness"
local n = harness.size(10)

local function ack(m, k)
  if m == 0 then return k + 1 end
  if k == 0 then return ack(m - 1, 1) end
  return ack(m - 1, ack(m, k - 1))
end

for m = 0, 3 do io.write("ack(", m, ",", n, ") = ", ack(m, n), "\n") end
local sum = 0
for i = 1, n do sum = sum + ack(2, i) + ack(3, i % 6) end
io.write("sum ", sum, "\n")
