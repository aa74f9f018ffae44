local t = {10, 20, 30}
for i, v in ipairs(t) do print(i, v) end
local function range(n)
  return function(_, i) if i < n then return i + 1 end end, nil, 0
end
for i in range(3) do print("r", i) end
local keys = {}
for k in pairs({a = 1, b = 2, c = 3}) do keys[#keys + 1] = k end
table.sort(keys)
print(table.concat(keys, ","))
for k, v in next, {x = 1} do print(k, v) end
-- ipairs stops at the first nil
for i, v in ipairs({1, 2, nil, 4}) do print("ip", i, v) end
