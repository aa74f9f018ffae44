local a, b = 1, 2
local c = a == b
c = a ~= b
c = a < b
c = a <= b
c = a > b
c = a >= b
c = a == 1
c = 1 == a
c = a < 10
c = 10 > a
c = a == nil
c = a ~= true
c = a == false
c = "x" < "y"
if a < b then print(1) end
if a >= 5 then print(2) end
if 3 <= a then print(3) end
