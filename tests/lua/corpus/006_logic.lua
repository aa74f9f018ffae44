print(nil and 1, false and 1, 0 and 1, "" and 1)
print(nil or 1, false or nil, 0 or 1)
print(not nil, not false, not 0, not "")
local function t() print("called") return true end
print(false and t())
print(true or t())
print(true and t())
local a = nil
local v = a and a.x or "default"
print(v)
