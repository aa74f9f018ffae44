local fns = {}
for i = 1, 3 do
  local acc = 0
  fns[i] = function(x) acc = acc + x * i; return acc end
end
print(fns[1](1), fns[1](1), fns[2](1), fns[3](2))
local shared = 0
local incs = {}
for i = 1, 3 do incs[i] = function() shared = shared + i end end
for _, f in ipairs(incs) do f() end
print(shared)
-- a closure in a while loop body captures a fresh local each iteration
local ws, k = {}, 0
while k < 3 do k = k + 1; local c = k * 2; ws[k] = function() return c end end
print(ws[1](), ws[2](), ws[3]())
