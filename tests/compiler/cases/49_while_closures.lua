local i = 1
while i < 5 do
  local j = i
  local f = function() return j end
  i = i + 1
end
local fns = {}
for k = 1, 3 do
  fns[k] = function() return k end
end
for k, v in pairs(fns) do
  fns[k] = function() return k, v end
end
