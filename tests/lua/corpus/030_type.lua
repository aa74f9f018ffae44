print(type(nil), type(1), type("s"), type({}), type(print), type(true), type(function() end))
print(type(io.stdout))
print((pcall(type)))
print(type(type))
