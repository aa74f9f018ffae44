local t = {
  1,
  2,
  x = 3,
}
print(
  1,
  2
)
local f = function(
  a,
  b
)
  return
    a
    +
    b
end
local s = "a" ..
  "b" ..
  "c"
t
.x
= 5
if t.x
  and t[1]
then
  print(t)
end
f(1,
  2)
