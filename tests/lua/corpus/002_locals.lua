local a = 1
local b, c = 2
print(a, b, c)
local d, e = 1, 2, 3
print(d, e)
local x = 10
do
  local x = x + 1
  print(x)
end
print(x)
local f = 5
local f = f * 2
print(f)
