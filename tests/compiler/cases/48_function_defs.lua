function a() end
function a.b() end
function a.b.c() end
function a:m() return self end
function a.b:m(...) return self, ... end
local t = {}
function t.x(y) return y end
local function l() end
local v = function() end
