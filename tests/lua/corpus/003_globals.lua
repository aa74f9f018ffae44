g1 = 42
print(g1, _G.g1, _G["g1"])
_G.g2 = "two"
print(g2)
g1 = nil
print(g1, rawget(_G, "g1"))
print(undefined_global)
local name = "dyn" .. 1
_G[name] = true
print(dyn1)
setfenv(1, setmetatable({}, {__index = _G}))
g3 = 3
print(g3, rawget(_G, "g3"))
