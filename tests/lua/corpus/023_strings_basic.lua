local s = "abc"
print(#s, #"", s .. "def", s == "abc")
print("a" .. 1 .. 2.5)
print(10 .. "")
print(type(10 .. ""))
print('single' .. "double" .. [[long]])
print(#"\0\0\0")
print("tab\tend")
print(("x"):byte(), string.char(72, 105))
