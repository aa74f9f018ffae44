-- Compiles many distinct functions (one prototype per loaded chunk), calls
-- each once, then stops so that tests can inspect the code cache.
local count = tonumber(arg and arg[1]) or 300
local sum = 0
for i = 1, count do
  local chunk = assert(loadstring("return function(x) return x + " .. i .. " end", "gen" .. i))
  local f = chunk()
  sum = sum + f(i)
end
print(sum)
vmtest.stop_here()
