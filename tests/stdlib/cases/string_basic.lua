-- string.byte/char/len/lower/upper/rep/reverse/sub and the string metatable.
local function show(...)
  local t = {}
  for i = 1, select('#', ...) do t[#t + 1] = tostring((select(i, ...))) end
  print(table.concat(t, " | "))
end
-- Errors are raised from a call written as `string.xxx(...)` inside a closure
-- so the function name in the message comes from the call site.
local function err(f)
  local ok, msg = pcall(f)
  print(ok, msg)
end

show(string.len(""), string.len("abc"), #"a\0b", string.len(123))
show(string.byte("ABC"), string.byte("ABC", 2), string.byte("ABC", -1))
show(string.byte("ABCDEF", 2, 4))
show(string.byte("ABC", 0, 10))
show(string.byte("ABC", 3, 2))
show(string.byte(""))
show(string.char(), string.char(72, 105), string.char(0):len())
err(function() return string.char(256) end)
err(function() return string.char(-1) end)
err(function() return string.char("x") end)
show(string.lower("HeLLo 123"), string.upper("HeLLo 123"))
show(string.rep("ab", 3), string.rep("x", 0), string.rep("x", -5), string.rep("", 10))
err(function() return string.rep() end)
err(function() return string.rep("x") end)
err(function() return ("x"):rep() end)
show(string.reverse("hello"), string.reverse(""))
local s = "hello world"
show(s:sub(1, 5), s:sub(7), s:sub(-5), s:sub(-5, -3), s:sub(0), s:sub(5, 2), s:sub(100))
show(s:sub(-100, 3), s:sub(3, -100), s:sub(2, 2))
show(("x"):rep(3), ("%d"):format(7), ("abc"):upper())
show(#string.rep("abc", 1000))
show(string.sub("abc", 2.7), string.sub("abcdef", "2", "3"))
err(function() return string.sub() end)
err(function() return string.sub("x", {}) end)
err(function() return string.len(nil) end)
err(function() return string.upper({}) end)
err(function() return string.dump(nil) end)
err(function() return string.dump(print) end)
show(type(string.gfind), type(string.gmatch))
show(("test"):len(), ("A"):byte())
local mt = getmetatable("")
show(type(mt), mt.__index == string)
