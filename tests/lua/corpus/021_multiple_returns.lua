local function none() end
local function one() return 1 end
local function three() return 1, 2, 3 end
print(none())
print(three())
print(three(), 10)
print(10, three())
print((three()))
print(({three()})[3])
local t = {three(), three()}
print(#t)
t = {three(), nil}
print(#t)
print(select('#', none()))
print(select('#', (none())))
local function tail() return three() end
print(tail())
local function paren() return (three()) end
print(paren())
print(string.format("%d %d %d", three()))
print(math.max(three()))
local a, b, c, d = three()
print(a, b, c, d)
print(one(), one())
