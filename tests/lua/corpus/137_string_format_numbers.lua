for _, v in ipairs({0, 1, -1, 0.5, 123.456, 1e10, 1e-10, 2^31, -2^31}) do
  print(string.format("%g|%.3f|%10.2e|%d", v, v, v, v))
end
print(string.format("%5.2f|%-7.1f|%07.2f", 3.14159, 2.5, -1.5))
print(string.format("%x|%X|%o", 3735928559, 48879, 511))
print(string.format("%.10g", 0.1), string.format("%.17g", 0.1))
print(string.format("%.14g", 2^63), string.format("%.0f", 2^63))
