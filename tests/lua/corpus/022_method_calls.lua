local obj = {name = "obj", n = 0}
function obj:inc(k) self.n = self.n + (k or 1); return self end
function obj.plain(x) return x end
obj:inc():inc(5)
print(obj.n)
print(obj.plain(7))
print(obj:plain() == obj)
local s = "hello"
print(s:upper(), s:len(), ("x"):rep(3), s:sub(2, 3))
print(("%d-%s"):format(5, "z"))
local t = {f = {g = function(self, a) return a * 2 end}}
print(t.f:g(21))
print(#s:rep(2))
