print([[simple]])
print([[
first newline skipped]])
print([==[contains ]] and ]=] inside]==])
print([=[
a
b]=])
local s = [[
]]
print(#s)
print([[no \n escapes \t here]])
--[[ a long
comment ]] print("after comment")
--[==[ another
]] still comment
]==] print("after level 2 comment")
-- print("line comment")
--[ not a long comment
print("done")
