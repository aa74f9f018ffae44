local s = "hello world"
print(s:sub(1, 5), s:sub(7), s:sub(-5), s:sub(-5, -3), s:sub(0), s:sub(5, 1), s:sub(100))
print(s:sub(-100, 2), s:sub(2, -2), s:sub(3, 3))
print(("x"):sub(2) == "")
