print(1 < 2, 2 < 1, 1 <= 1, 1 >= 2, 1 > 0)
print("a" < "b", "abc" < "abd", "" < "a", "Z" < "a", "a\0b" < "a\0c")
print(1 == 1.0, "1" == 1, nil == false)
local t = {}
print(t == t, {} == {}, t ~= {})
print(1 ~= 2, "x" ~= "x")
local f = function() end
print(f == f)
print(0 == -0)
