local parts = {"return ", "10 ", "* ", "4"}
local i = 0
local f = load(function() i = i + 1; return parts[i] end)
print(f())
local g = load(function() return nil end)
print(type(g), g())
-- a reader that yields one bad piece and then ends
local bad = {"syntax error here"}
local b = 0
print(load(function() b = b + 1; return bad[b] end))
local chunks = {"local t = {", "1, 2, 3", "}; return #t"}
local j = 0
print(load(function() j = j + 1; return chunks[j] end, "=pieces")())
