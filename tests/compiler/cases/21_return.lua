local function a() return end
local function b() return 1 end
local function c() return 1, 2, 3 end
local function d() return c() end
local function e() return (c()) end
local function f(...) return ... end
local function g(...) return 1, ... end
local function h(x) return x.y(x) end
local function i(x) return x:m() end
local function j(x) if x then return 1 else return 2 end end
local function k(x) do return end end
local function l(x) return x, c() end
local function m() return; end
local function n(x) local y = x return y end
local function o(x) return x and 1 or 2 end
return a, b
