local a, b, c = "a", "b", "c"
local x = a .. b
x = a .. b .. c
x = a .. "lit" .. 1 .. c
x = (a .. b) .. c
x = a .. (b .. c)
x = a .. tostring(b) .. c
x = 1 .. 2
x = a .. b + 1 .. c
print(a .. b, x .. x)
