-- zero comes from a runtime value: Lua 5.1 merges the constants 0 and -0 per function
local zero = tonumber("0")
local nz = -zero
print(nz, zero * -1, nz == zero)
print(1 / zero, -1 / zero, 1 / nz)
print(string.format("%g %g", nz, zero))
local inf = 1 / zero
print(inf > 1e308, -inf < -1e308, inf == math.huge)
local nan = zero / zero
print(nan ~= nan, nan == nan, nan < 1, nan > 1, not (nan >= nan))
