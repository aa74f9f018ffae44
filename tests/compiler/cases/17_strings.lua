local a = "plain"
local b = 'single "quoted"'
local c = "esc: \a\b\f\n\r\t\v\\\"\x27"
local d = "dec: \0\1\65\066\255\9x"
local e = "line\
continued"
local f = [[long
string]]
local g = [==[with ]] and ]=] inside]==]
local h = [[
first newline skipped]]
--[[ long
comment ]] local i = "after comment"
--[==[ another ]] ]==] local j = 1
-- short comment
local k = "\q\?"
local l = '\''
local m = "tab	inside"
local n = "\r\n"
local o = [[a

b]]
