local bit = require "bit"
print(bit.band(0xff, 0x0f), bit.bor(0xf0, 0x0f), bit.bxor(0xff, 0x0f), bit.bnot(0))
print(bit.lshift(1, 10), bit.rshift(1024, 3), bit.arshift(-256, 4), bit.rshift(-1, 28))
print(bit.rol(0x12345678, 8), bit.ror(0x12345678, 8))
print(bit.tobit(0xffffffff), bit.tobit(2^32 + 5), bit.tohex(255), bit.tohex(-1), bit.tohex(255, 4), bit.tohex(255, -4))
print(bit.bswap(0x12345678), bit.band(-1, 0x7fffffff))
print(bit.band(1, 3, 7), bit.bor(1, 2, 4, 8), bit.bxor(1, 1, 1))
print(bit.lshift(1, 31), bit.lshift(1, 32), bit.lshift(1, 33))
