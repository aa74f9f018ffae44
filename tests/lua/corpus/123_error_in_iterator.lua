local function bad_iter() local n = 0; return function() n = n + 1; if n == 3 then error("iter fail") end return n end end
local seen = {}
print(pcall(function() for v in bad_iter() do seen[#seen + 1] = v end end))
print(#seen)
print((pcall(function() for k in pairs(nil) do end end)))
