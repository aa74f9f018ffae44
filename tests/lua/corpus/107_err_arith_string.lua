local a = "text"
local b = a * 2
