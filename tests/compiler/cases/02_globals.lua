x = 1
y, z = x, 2
x = y
print(x, y, z)
local a = x
w = a
