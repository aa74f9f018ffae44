local a = ...
local b = {...}
local c = select(2, ...)
print(...)
if ... then print(1) end
local d = ... or 1
return ...
