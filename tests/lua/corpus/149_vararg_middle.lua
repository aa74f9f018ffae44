local function three() return 1, 2, 3 end
print(three(), three())
print(math.max(three(), 10))
print(string.format("%d %d", three(), 9))
local function count(...) return select('#', ...) end
print(count(three(), three()), count((three())), count(three(), nil))
local t = {}
t.a, t.b, t.c = three()
print(t.a, t.b, t.c)
