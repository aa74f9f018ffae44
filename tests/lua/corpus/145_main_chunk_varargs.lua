local n = select('#', ...)
print(n)
local t = {...}
print(#t)
local chunk = loadstring("return select('#', ...), ...")
print(chunk(1, nil, 3))
