local t = {}
t[1] = "int"
t[1.5] = "float"
t["1"] = "string"
print(t[1], t[1.5], t["1"], t[2 / 2])
print(pcall(function() t[nil] = 1 end))
print(t[nil])
local nan = 0 / 0
print(pcall(function() t[nan] = 1 end))
t[2^53] = "big"
print(t[2^53])
t[-1] = "neg"
print(t[-1])
