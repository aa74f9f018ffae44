local function inner() error({tag = "inner"}) end
local function middle()
  local ok, e = pcall(inner)
  if not ok then e.tag = e.tag .. "+middle"; error(e) end
end
local ok, e = pcall(middle)
print(ok, e.tag)
local ok2, e2 = pcall(function()
  local ok3, e3 = pcall(error, "first")
  error("second after " .. e3, 0)
end)
print(ok2, e2)
