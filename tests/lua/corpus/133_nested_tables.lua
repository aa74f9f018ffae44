local function build(depth) if depth == 0 then return {leaf = true} end return {child = build(depth - 1), depth = depth} end
local t = build(100)
local n = 0
while t.child do t = t.child; n = n + 1 end
print(n, t.leaf)
local grid = {}
for i = 1, 5 do grid[i] = {} for j = 1, 5 do grid[i][j] = i * j end end
print(grid[3][4], grid[5][5], #grid, #grid[1])
local m = {{1, 2}, {3, 4}}
print(m[1][1] + m[2][2], m[1][2] * m[2][1])
