if true then print(1) end
if false then print(2) end
if nil then print(3) end
if 1 then print(4) end
if "x" then print(5) end
while true do break end
repeat until true
repeat local a = 1 until false == nil
local x = true and 1
x = false and 1
x = nil or 2
x = true or 2
x = not nil
x = not 1
x = not true
x = not "s"
if not nil then print(6) end
if not 1 then print(7) end
