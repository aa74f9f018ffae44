local failures, total = 0, 0
for i = 1, 2000 do
  local ok, e = pcall(function(x)
    local t = {x}
    if x % 3 == 0 then error("div3") end
    return t[1] * 2
  end, i)
  if ok then total = total + e else failures = failures + 1 end
end
print(failures, total)
local depth = 0
local function nest(n) if n == 0 then error("bottom") end depth = depth + 1; return pcall(nest, n - 1) end
print(nest(50), depth)
