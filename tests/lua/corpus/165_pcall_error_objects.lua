local kinds = {"s", 1, true, {}, print}
for _, v in ipairs(kinds) do
  local ok, e = pcall(error, v, 0)
  print(ok, type(e), e == v)
end
local ok, e = pcall(error, nil)
print(ok, e)
