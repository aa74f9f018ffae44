local a = 1; local b = 2;
print(a + b);
do end
local t = {1; 2; 3;}
print(#t)
local f = function() return 1; end
print(f())
