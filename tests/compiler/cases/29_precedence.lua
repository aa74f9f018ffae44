local a, b, c = 1, 2, 3
local x = a + b * c
x = (a + b) * c
x = a ^ b ^ c
x = -a ^ 2
x = not a == b
x = a .. b .. c
x = a < b == true
x = a + b < c and a or b
x = #"abc" + 1
x = -#"ab"
x = a - b - c
x = a / b / c
x = a % b * c
x = not not not a
x = - - - a
x = 2 ^ -2
x = a .. b == c .. a
