local s = "abcdef"
print(s:sub(2.0, 4.0), s:sub("2", "3"))
print(string.rep("x", 3.0), ("abc"):byte(1.0))
print(#s:sub(2, 100), s:sub(-3, -1), s:sub(4, 3) == "")
