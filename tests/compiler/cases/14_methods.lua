local obj = {n = 0}
function obj:inc(d) self.n = self.n + (d or 1) return self end
function obj.get(self) return self.n end
obj:inc(2):inc()
print(obj:get(), obj.get(obj))
local a = {b = {c = {}}}
function a.b.c:d(x, ...) return self, x, ... end
function a.b.f() end
a.b.c:d(1, 2, 3)
local s = ("x"):rep(3)
local l = s:len()
print(s:upper():lower())
obj:inc "x"
obj:inc {1}
