// The `bit` library with LuaBitOp 1.0.2 semantics (as Debian's lua-bitop and
// LuaJIT): every argument is normalised to a 32-bit integer and every result
// is returned as a signed 32-bit number.
#include <cstdint>
#include <cstring>

#include "api.h"

namespace jitvm {

namespace {

// Adding 2^52 + 2^51 puts the integer part of any |n| < 2^51 in the low 32
// bits of the double's mantissa, rounding like the FPU (to nearest even) and
// wrapping modulo 2^32 for larger values: exactly LuaBitOp's conversion.
constexpr double kNormaliseBias = 6755399441055744.0;

uint32_t bit_arg(State* L, int i) {
  double n = 0;
  bool is_num = to_number(arg(L, i), &n);
  if (!is_num) n = 0;  // lua_tonumber yields 0 for non-numbers
  double biased = n + kNormaliseBias;
  uint64_t bits;
  std::memcpy(&bits, &biased, sizeof bits);
  uint32_t b = static_cast<uint32_t>(bits);
  // A zero result can come from a real number; only then is a non-number an error.
  if (b == 0 && !is_num) type_error(L, i, "number");
  return b;
}

int bit_ret(State* L, uint32_t b) {
  push_number(L, static_cast<double>(static_cast<int32_t>(b)));
  return 1;
}

int bit_tobit(State* L) { return bit_ret(L, bit_arg(L, 1)); }
int bit_bnot(State* L) { return bit_ret(L, ~bit_arg(L, 1)); }

int bit_band(State* L) {
  uint32_t b = bit_arg(L, 1);
  for (int i = 2, n = nargs(L); i <= n; i++) b &= bit_arg(L, i);
  return bit_ret(L, b);
}

int bit_bor(State* L) {
  uint32_t b = bit_arg(L, 1);
  for (int i = 2, n = nargs(L); i <= n; i++) b |= bit_arg(L, i);
  return bit_ret(L, b);
}

int bit_bxor(State* L) {
  uint32_t b = bit_arg(L, 1);
  for (int i = 2, n = nargs(L); i <= n; i++) b ^= bit_arg(L, i);
  return bit_ret(L, b);
}

int bit_lshift(State* L) {
  uint32_t b = bit_arg(L, 1);
  uint32_t n = bit_arg(L, 2) & 31;
  return bit_ret(L, b << n);
}

int bit_rshift(State* L) {
  uint32_t b = bit_arg(L, 1);
  uint32_t n = bit_arg(L, 2) & 31;
  return bit_ret(L, b >> n);
}

int bit_arshift(State* L) {
  uint32_t b = bit_arg(L, 1);
  uint32_t n = bit_arg(L, 2) & 31;
  return bit_ret(L, static_cast<uint32_t>(static_cast<int32_t>(b) >> n));
}

int bit_rol(State* L) {
  uint32_t b = bit_arg(L, 1);
  uint32_t n = bit_arg(L, 2) & 31;
  return bit_ret(L, n == 0 ? b : (b << n) | (b >> (32 - n)));
}

int bit_ror(State* L) {
  uint32_t b = bit_arg(L, 1);
  uint32_t n = bit_arg(L, 2) & 31;
  return bit_ret(L, n == 0 ? b : (b >> n) | (b << (32 - n)));
}

int bit_bswap(State* L) {
  uint32_t b = bit_arg(L, 1);
  b = (b >> 24) | ((b >> 8) & 0xff00) | ((b & 0xff00) << 8) | (b << 24);
  return bit_ret(L, b);
}

int bit_tohex(State* L) {
  uint32_t b = bit_arg(L, 1);
  int32_t n = nargs(L) < 2 ? 8 : static_cast<int32_t>(bit_arg(L, 2));
  const char* digits = "0123456789abcdef";
  if (n < 0) {
    // Negation wraps like the C original (INT32_MIN stays negative: no digits).
    n = static_cast<int32_t>(0u - static_cast<uint32_t>(n));
    digits = "0123456789ABCDEF";
  }
  if (n > 8) n = 8;
  char buf[8];
  int len = n > 0 ? n : 0;
  for (int i = len; --i >= 0;) {
    buf[i] = digits[b & 15];
    b >>= 4;
  }
  push_string(L, std::string_view(buf, static_cast<size_t>(len)));
  return 1;
}

const NativeReg kBitLib[] = {
    {"tobit", bit_tobit},
    {"bnot", bit_bnot},
    {"band", bit_band},
    {"bor", bit_bor},
    {"bxor", bit_bxor},
    {"lshift", bit_lshift},
    {"rshift", bit_rshift},
    {"arshift", bit_arshift},
    {"rol", bit_rol},
    {"ror", bit_ror},
    {"bswap", bit_bswap},
    {"tohex", bit_tohex},
    {nullptr, nullptr},
};

}  // namespace

void open_bit(State* L) { register_lib(L, "bit", kBitLib); }

}  // namespace jitvm
