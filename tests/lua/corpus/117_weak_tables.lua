local weak = setmetatable({}, {__mode = "k"})
local key1, key2 = {}, {}
weak[key1] = "one"
weak[key2] = "two"
key2 = nil
collectgarbage()
collectgarbage()
local n = 0
for k, v in pairs(weak) do n = n + 1 end
print(n, weak[key1])
local wv = setmetatable({}, {__mode = "v"})
wv[1] = {}
wv[2] = "strings are not collected"
local keep = {}
wv[3] = keep
collectgarbage()
print(wv[1], wv[2], wv[3] == keep)
