local function f() return missing_function(1) end
f()
