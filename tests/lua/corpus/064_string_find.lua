local s = "hello world"
print(s:find("o"), s:find("o", 6), s:find("xyz"), s:find(""), s:find("", 20))
print(s:find("l+"), s:find("o w"), s:find(".", 1, true), ("a.b"):find(".", 1, true))
print(s:find("wor", -5), s:find("h", -100))
print(s:find("(o)(r)"))
print(("a+b"):find("+", 1, true))
print(s:find("^hello"), s:find("^world"), s:find("world$"))
