local a, b = 7, 2
print(a + b, a - b, a * b, a / b, a % b, a ^ b, -a)
print(a == b, a ~= b, a < b, a <= b, a > b, a >= b)
print(a and b, a or b, not a)
print("s" .. "t", #"len")
local x = 5
x = x + 1; print(x)
x = -x; print(x)
print(- - 2, not not nil)
