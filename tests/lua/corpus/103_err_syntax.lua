print("not reached: the chunk fails to compile")
local x = 1 +
