local n = 5
print(pcall(function() return n:foo() end))
print(pcall(function() return (5).x end))
print(("5"):rep(2), ("5" + 0))
print(pcall(function() local b = true; return b.x end))
