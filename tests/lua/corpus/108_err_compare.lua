local n
if 1 < n then print("x") end
