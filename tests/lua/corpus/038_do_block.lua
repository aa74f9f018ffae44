local x = 1
do local x = 2; print(x) end
print(x)
do
  local function f() return "inner" end
  print(f())
end
print(f)
