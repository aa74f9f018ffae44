package.path = "./modules/?.lua;" .. package.path
local m = require "mathx"
print(m.square(7))
print(require("noreturn"), noreturn_loaded, package.loaded.noreturn)
local ok, e = pcall(require, "does_not_exist_module")
print(ok, (e:find("module 'does_not_exist_module' not found", 1, true)) ~= nil)
local ok2, e2 = pcall(require, "broken")
print(ok2, (e2:find("error loading module 'broken'", 1, true)) ~= nil)
package.preload["virtual"] = function(name) return {n = name} end
print(require("virtual").n)
package.loaded["fake"] = "preset"
print(require("fake"))
