-- mandelbrot: the set on an N x N grid, packed to bits as in the PBM output.
-- Prints the PBM header and a checksum of the bitmap bytes instead of the bytes.
local harness = require "harness"
local n = harness.size(1000)

local width, height = n, n
local iter = 50
local limit2 = 4.0
local sum, bytes = 0, 0
io.write("P4\n", width, " ", height, "\n")
for y = 0, height - 1 do
  local ci = 2 * y / height - 1
  local bits, nbits = 0, 0
  for x = 0, width - 1 do
    local cr = 2 * x / width - 1.5
    local zr, zi, zrq, ziq = 0, 0, 0, 0
    local inside = 1
    for _ = 1, iter do
      zi = 2 * zr * zi + ci
      zr = zrq - ziq + cr
      zrq, ziq = zr * zr, zi * zi
      if zrq + ziq > limit2 then inside = 0; break end
    end
    bits = bits * 2 + inside
    nbits = nbits + 1
    if nbits == 8 or x == width - 1 then
      bits = bits * 2 ^ (8 - nbits)
      sum = (sum * 33 + bits) % 4294967296
      bytes = bytes + 1
      bits, nbits = 0, 0
    end
  end
end
io.write("bytes=", bytes, " checksum=", sum, "\n")
