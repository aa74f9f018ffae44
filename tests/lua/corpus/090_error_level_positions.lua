local function check(x) if type(x) ~= "number" then error("expected number", 2) end return x end
local function user() return check("s") end
local ok, e = pcall(user)
print(e)
local function lvl3() error("level three", 3) end
local function a() lvl3() end
local function b() a() end
ok, e = pcall(b)
print(e)
