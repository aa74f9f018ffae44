print(unpack({1, 2, 3}, 1, 5))
print(unpack({}, 1, 0))
print(select('#', unpack({n = 3}, 1, 3)))
print(unpack({"a", "b", "c"}, -1, 1))
local big = {}
for i = 1, 200 do big[i] = i end
print(select('#', unpack(big)), (select(200, unpack(big))))
