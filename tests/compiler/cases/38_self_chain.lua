local o = {}
o:a():b():c()
o.x:y(o:z())
local r = o:a(1, 2, o:b())
o:a(...)
o.p.q:r(1).s:t()
