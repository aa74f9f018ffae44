local function r(x) return string.format("%.6f", x) end
print(r(math.sin(1)), r(math.cos(1)), r(math.tan(1)))
print(r(math.asin(0.5)), r(math.acos(0.5)), r(math.atan(1)), r(math.atan2(1, -1)))
print(r(math.sinh(1)), r(math.cosh(1)), r(math.tanh(1)))
print(math.sin(0), math.cos(0))
