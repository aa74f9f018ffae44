local function f() return x end
setfenv(f, {x = "from env"})
print(f())
print(getfenv(f).x)
local env = {print = print}
local chunk = loadstring("y = 10; print(y)")
setfenv(chunk, env)
chunk()
print(env.y, y)
print(getfenv(0) == _G, getfenv() == _G, getfenv(1) == _G)
local function g() setfenv(1, {r = "level1"}); return r end
print(g())
print((pcall(setfenv, print, {})))
