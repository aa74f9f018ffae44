// The Lua 5.1 `math` library (lmathlib.c semantics).
#include <cmath>
#include <cstdlib>

#include "api.h"

namespace jitvm {

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kRadiansPerDegree = kPi / 180.0;

int check_int(State* L, int i) { return static_cast<int>(check_integer(L, i)); }

int ret(State* L, double d) {
  push_number(L, d);
  return 1;
}

int math_abs(State* L) { return ret(L, std::fabs(check_number(L, 1))); }
int math_sin(State* L) { return ret(L, std::sin(check_number(L, 1))); }
int math_sinh(State* L) { return ret(L, std::sinh(check_number(L, 1))); }
int math_cos(State* L) { return ret(L, std::cos(check_number(L, 1))); }
int math_cosh(State* L) { return ret(L, std::cosh(check_number(L, 1))); }
int math_tan(State* L) { return ret(L, std::tan(check_number(L, 1))); }
int math_tanh(State* L) { return ret(L, std::tanh(check_number(L, 1))); }
int math_asin(State* L) { return ret(L, std::asin(check_number(L, 1))); }
int math_acos(State* L) { return ret(L, std::acos(check_number(L, 1))); }
int math_atan(State* L) { return ret(L, std::atan(check_number(L, 1))); }
int math_atan2(State* L) {
  double y = check_number(L, 1);
  return ret(L, std::atan2(y, check_number(L, 2)));
}
int math_ceil(State* L) { return ret(L, std::ceil(check_number(L, 1))); }
int math_floor(State* L) { return ret(L, std::floor(check_number(L, 1))); }
int math_fmod(State* L) {
  double a = check_number(L, 1);
  return ret(L, std::fmod(a, check_number(L, 2)));
}
int math_modf(State* L) {
  double ip = 0;
  double fp = std::modf(check_number(L, 1), &ip);
  push_number(L, ip);
  push_number(L, fp);
  return 2;
}
int math_sqrt(State* L) { return ret(L, std::sqrt(check_number(L, 1))); }
int math_pow(State* L) {
  double a = check_number(L, 1);
  return ret(L, std::pow(a, check_number(L, 2)));
}
int math_log(State* L) { return ret(L, std::log(check_number(L, 1))); }
int math_log10(State* L) { return ret(L, std::log10(check_number(L, 1))); }
int math_exp(State* L) { return ret(L, std::exp(check_number(L, 1))); }
int math_deg(State* L) { return ret(L, check_number(L, 1) / kRadiansPerDegree); }
int math_rad(State* L) { return ret(L, check_number(L, 1) * kRadiansPerDegree); }
int math_frexp(State* L) {
  int e = 0;
  push_number(L, std::frexp(check_number(L, 1), &e));
  push_number(L, e);
  return 2;
}
int math_ldexp(State* L) {
  double x = check_number(L, 1);
  return ret(L, std::ldexp(x, check_int(L, 2)));
}

int math_min(State* L) {
  int n = nargs(L);
  double dmin = check_number(L, 1);
  for (int i = 2; i <= n; i++) {
    double d = check_number(L, i);
    if (d < dmin) dmin = d;
  }
  return ret(L, dmin);
}

int math_max(State* L) {
  int n = nargs(L);
  double dmax = check_number(L, 1);
  for (int i = 2; i <= n; i++) {
    double d = check_number(L, i);
    if (d > dmax) dmax = d;
  }
  return ret(L, dmax);
}

// Lua 5.1 draws from the C library's rand(), so seeded sequences match lua5.1
// on the same libc.
int math_random(State* L) {
  double r = static_cast<double>(std::rand() % RAND_MAX) / static_cast<double>(RAND_MAX);
  switch (nargs(L)) {
    case 0:
      return ret(L, r);
    case 1: {
      int u = check_int(L, 1);
      if (!(1 <= u)) arg_error(L, 1, "interval is empty");
      return ret(L, std::floor(r * u) + 1);
    }
    case 2: {
      int l = check_int(L, 1);
      int u = check_int(L, 2);
      if (!(l <= u)) arg_error(L, 2, "interval is empty");
      return ret(L, std::floor(r * (static_cast<double>(u) - l + 1)) + l);
    }
    default:
      error(L, "wrong number of arguments");
  }
}

int math_randomseed(State* L) {
  std::srand(static_cast<unsigned>(check_int(L, 1)));
  return 0;
}

const NativeReg kMathLib[] = {
    {"abs", math_abs},
    {"acos", math_acos},
    {"asin", math_asin},
    {"atan2", math_atan2},
    {"atan", math_atan},
    {"ceil", math_ceil},
    {"cosh", math_cosh},
    {"cos", math_cos},
    {"deg", math_deg},
    {"exp", math_exp},
    {"floor", math_floor},
    {"fmod", math_fmod},
    {"frexp", math_frexp},
    {"ldexp", math_ldexp},
    {"log10", math_log10},
    {"log", math_log},
    {"max", math_max},
    {"min", math_min},
    {"mod", math_fmod},
    {"modf", math_modf},
    {"pow", math_pow},
    {"rad", math_rad},
    {"random", math_random},
    {"randomseed", math_randomseed},
    {"sinh", math_sinh},
    {"sin", math_sin},
    {"sqrt", math_sqrt},
    {"tanh", math_tanh},
    {"tan", math_tan},
    {nullptr, nullptr},
};

}  // namespace

void open_math(State* L) {
  Table* m = register_lib(L, "math", kMathLib);
  set_field(L, m, "pi", Value::number(kPi));
  set_field(L, m, "huge", Value::number(HUGE_VAL));
}

}  // namespace jitvm
