local m = require "modules.mathx"
print(m.square(5), m.cube(3))
local again = require("modules.mathx")
print(again == m, mathx_load_count)
print(package.loaded["modules.mathx"] == m)
local inner = require "modules.sub.inner"
print(inner.name, inner.value)
