local a = 1; local b = 2;
-- lone semicolons are not statements in 5.1
a = b; b = a
print(a);
do return; end
