print(2 + 3 * 4, (2 + 3) * 4, 10 - 2 - 3, 2 ^ 2 ^ 3, 100 / 10 / 2)
print(1 / 3 * 3 == 1, 7 % 3 * 2, -2 ^ 2, (-2) ^ 2)
print("a" .. "b" == "ab", not true == false)
local k = 3
print(k * 2 + 1, 1 + k * 2, (k + 1) * (k - 1))
