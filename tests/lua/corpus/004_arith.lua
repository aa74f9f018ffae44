print(1 + 2, 5 - 7, 3 * 4, 7 / 2, 7 % 3, 2 ^ 10)
print(-7 % 3, 7 % -3, -7 % -3, 5.5 % 2)
print(1 / 3)
print(10 / 2)
print(2 ^ 0.5)
print(-(-3))
print(3 - -3)

