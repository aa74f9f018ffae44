local s = "\1\12\123\0124"
print(#s, s:byte(1, -1))
print(("\x"):byte())
print("\9" == "\t", "\10" == "\n", "\092" == "\\")
