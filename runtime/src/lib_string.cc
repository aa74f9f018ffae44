// The Lua 5.1 `string` library (lstrlib.c semantics, messages included).
#include <cctype>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "api.h"
#include "lua_pattern.h"

namespace jitvm {

namespace {

// Characters whose presence makes string.find use the pattern matcher (SPECIALS).
constexpr const char* kPatternSpecials = "^$*+?.([%-";
// Flags accepted by string.format, as L_FMTFLAGS of Lua 5.1.
constexpr const char* kFormatFlags = "-+ #0";
// Results larger than this are refused with "not enough memory" rather than
// letting the allocator abort the process.
constexpr size_t kMaxStringResult = size_t{1} << 31;

int64_t posrelat(int64_t pos, size_t len) {
  if (pos < 0) pos += static_cast<int64_t>(len) + 1;
  return pos >= 0 ? pos : 0;
}

// C casts of out-of-range doubles are undefined; x86-64 (where lua5.1 runs)
// yields the "integer indefinite" value, so do the same explicitly.
long double_to_long(double d) {
  if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) return LONG_MIN;
  return static_cast<long>(d);
}
// gcc converts to unsigned via the signed conversion, offsetting by 2^63 for
// large values; +inf and values >= 2^64 therefore come out as 0.
unsigned long double_to_ulong(double d) {
  constexpr double kTwo63 = 9223372036854775808.0;
  if (d >= kTwo63) {
    return static_cast<unsigned long>(double_to_long(d - kTwo63)) ^ (1ul << 63);
  }
  return static_cast<unsigned long>(double_to_long(d));
}
int double_to_int(double d) {
  if (!(d >= -2147483648.0 && d < 2147483648.0)) return INT_MIN;
  return static_cast<int>(d);
}

// luaL_checkint: the integer argument truncated to int.
int check_int(State* L, int i) { return static_cast<int>(check_integer(L, i)); }

Closure* current_closure(State* L) { return L->ci->func->as_closure(); }

[[noreturn]] void pattern_error(State* L, const PatternError& e) { error(L, "%s", e.message); }

// ---- basic functions ----------------------------------------------------------

int str_len(State* L) {
  push_number(L, check_string(L, 1)->len);
  return 1;
}

int str_sub(State* L) {
  String* s = check_string(L, 1);
  size_t l = s->len;
  int64_t start = posrelat(check_integer(L, 2), l);
  int64_t end = posrelat(opt_integer(L, 3, -1), l);
  if (start < 1) start = 1;
  if (end > static_cast<int64_t>(l)) end = static_cast<int64_t>(l);
  if (start <= end) {
    push_string(L, std::string_view(s->data + start - 1, static_cast<size_t>(end - start + 1)));
  } else {
    push_string(L, "");
  }
  return 1;
}

int str_reverse(State* L) {
  String* s = check_string(L, 1);
  std::string r(s->data, s->len);
  std::string out(r.rbegin(), r.rend());
  push_string(L, out);
  return 1;
}

int str_lower(State* L) {
  String* s = check_string(L, 1);
  std::string r(s->data, s->len);
  for (char& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  push_string(L, r);
  return 1;
}

int str_upper(State* L) {
  String* s = check_string(L, 1);
  std::string r(s->data, s->len);
  for (char& c : r) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  push_string(L, r);
  return 1;
}

int str_rep(State* L) {
  String* s = check_string(L, 1);
  int n = check_int(L, 2);
  std::string r;
  if (n > 0 && s->len > 0) {
    if (s->len > kMaxStringResult / static_cast<size_t>(n) || s->len * static_cast<size_t>(n) > L->g->max_bytes)
      error(L, "not enough memory");
    r.reserve(s->len * static_cast<size_t>(n));
    for (int i = 0; i < n; i++) r.append(s->data, s->len);
  }
  push_string(L, r);
  return 1;
}

int str_byte(State* L) {
  String* s = check_string(L, 1);
  size_t l = s->len;
  int64_t posi = posrelat(opt_integer(L, 2, 1), l);
  int64_t pose = posrelat(opt_integer(L, 3, posi), l);
  if (posi <= 0) posi = 1;
  if (pose > static_cast<int64_t>(l)) pose = static_cast<int64_t>(l);
  if (posi > pose) return 0;
  int64_t n = pose - posi + 1;
  if (n >= INT_MAX) error(L, "string slice too long");
  check_stack(L, static_cast<int>(n));
  for (int64_t i = 0; i < n; i++) {
    push_number(L, static_cast<unsigned char>(s->data[posi + i - 1]));
  }
  return static_cast<int>(n);
}

int str_char(State* L) {
  int n = nargs(L);
  std::string r;
  r.reserve(static_cast<size_t>(n));
  for (int i = 1; i <= n; i++) {
    int c = check_int(L, i);
    if (static_cast<unsigned char>(c) != c) arg_error(L, i, "invalid value");
    r.push_back(static_cast<char>(c));
  }
  push_string(L, r);
  return 1;
}

int str_dump(State* L) {
  check_type(L, 1, kTFunction);
  // jitvm has no bytecode serialisation; Lua 5.1 gives this message for
  // functions it cannot dump.
  error(L, "unable to dump given function");
}

// ---- pattern matching -----------------------------------------------------------

void push_onecapture(State* L, const PatternMatcher& m, int i, size_t s, size_t e) {
  if (i >= m.capture_count()) {
    if (i != 0) error(L, "invalid capture index");
    push_string(L, std::string_view(m.subject() + s, e - s));
    return;
  }
  CaptureSpan c = m.capture(i);
  if (c.kind == kCapPosition) {
    push_number(L, static_cast<double>(c.start + 1));
  } else {
    push_string(L, std::string_view(m.subject() + c.start, c.len));
  }
}

// Pushes the captures, or the whole match [s, e) when the pattern has none
// and `whole` is set (find pushes only explicit captures).
int push_captures(State* L, const PatternMatcher& m, bool whole, size_t s, size_t e) {
  int n = (m.capture_count() == 0 && whole) ? 1 : m.capture_count();
  check_stack(L, n);
  for (int i = 0; i < n; i++) push_onecapture(L, m, i, s, e);
  return n;
}

// Under the fuzzer's instruction budget, pattern matching is metered too.
class PatternBudgetScope {
 public:
  explicit PatternBudgetScope(State* L) : prev_(tls_pattern_budget) {
    if (L->hook_budget >= 0) {
      steps_ = static_cast<int64_t>(L->hook_budget) * 16;
      tls_pattern_budget = &steps_;
    }
  }
  ~PatternBudgetScope() { tls_pattern_budget = prev_; }

 private:
  int64_t* prev_;
  int64_t steps_ = 0;
};

int str_find_aux(State* L, bool find) {
  PatternBudgetScope budget(L);
  String* s = check_string(L, 1);
  String* p = check_string(L, 2);
  size_t ls = s->len;
  int64_t init = posrelat(opt_integer(L, 3, 1), ls) - 1;
  if (init < 0) {
    init = 0;
  } else if (init > static_cast<int64_t>(ls)) {
    init = static_cast<int64_t>(ls);
  }
  if (find && (!arg(L, 4).is_falsy() || std::strpbrk(p->data, kPatternSpecials) == nullptr)) {
    // Plain search (memmem semantics: an empty needle matches at init).
    const char* hay = s->data + init;
    size_t hay_len = ls - static_cast<size_t>(init);
    const char* found = nullptr;
    if (p->len == 0) {
      found = hay;
    } else if (p->len <= hay_len) {
      found = static_cast<const char*>(memmem(hay, hay_len, p->data, p->len));
    }
    if (found != nullptr) {
      size_t off = static_cast<size_t>(found - s->data);
      push_number(L, static_cast<double>(off + 1));
      push_number(L, static_cast<double>(off + p->len));
      return 2;
    }
  } else {
    try {
      PatternMatcher m(s->data, ls, p->data, p->len);
      size_t start = 0;
      size_t end = 0;
      if (m.find(static_cast<size_t>(init), &start, &end)) {
        if (find) {
          push_number(L, static_cast<double>(start + 1));
          push_number(L, static_cast<double>(end));
          return push_captures(L, m, /*whole=*/false, 0, 0) + 2;
        }
        return push_captures(L, m, /*whole=*/true, start, end);
      }
    } catch (const PatternError& e) {
      pattern_error(L, e);
    }
  }
  push_nil(L);
  return 1;
}

int str_find(State* L) { return str_find_aux(L, true); }
int str_match(State* L) { return str_find_aux(L, false); }

// The gmatch iterator: upvalues are the subject, the pattern and the offset
// where the next search starts.
int gmatch_aux(State* L) {
  PatternBudgetScope budget(L);
  Closure* self = current_closure(L);
  String* s = self->cupvals[0].as_string();
  String* p = self->cupvals[1].as_string();
  size_t pos = static_cast<size_t>(self->cupvals[2].n);
  try {
    PatternMatcher m(s->data, s->len, p->data, p->len);
    // gmatch does not treat '^' as an anchor in Lua 5.1.
    for (size_t src = pos; src <= s->len; src++) {
      size_t e = 0;
      if (m.match_here(src, 0, &e)) {
        size_t next = e;
        if (e == src) next++;  // empty match: step past it
        self->cupvals[2] = Value::number(static_cast<double>(next));
        return push_captures(L, m, /*whole=*/true, src, e);
      }
    }
  } catch (const PatternError& e) {
    pattern_error(L, e);
  }
  return 0;
}

int str_gmatch(State* L) {
  String* s = check_string(L, 1);
  String* p = check_string(L, 2);
  Closure* c = new_native(L, gmatch_aux, "gmatch_aux", 3);
  c->cupvals[0] = Value::string(s);
  c->cupvals[1] = Value::string(p);
  c->cupvals[2] = Value::number(0);
  push(L, Value::function(c));
  return 1;
}

void append_value_string(State* L, std::string* b, const Value& v) {
  if (v.is_number()) {
    char buf[64];
    int n = number2str(v.n, buf);
    b->append(buf, static_cast<size_t>(n));
  } else {
    String* str = v.as_string();
    b->append(str->data, str->len);
  }
}

void add_s(State* L, std::string* b, const PatternMatcher& m, size_t s, size_t e) {
  String* repl = arg(L, 3).as_string();
  const char* news = repl->data;
  size_t l = repl->len;
  for (size_t i = 0; i < l; i++) {
    if (news[i] != '%') {
      b->push_back(news[i]);
      continue;
    }
    i++;  // the byte after '%' (the terminating NUL when '%' is last)
    char c = news[i];
    if (!std::isdigit(static_cast<unsigned char>(c))) {
      b->push_back(c);
    } else if (c == '0') {
      b->append(m.subject() + s, e - s);
    } else {
      push_onecapture(L, m, c - '1', s, e);
      append_value_string(L, b, L->top[-1]);
      L->top--;
    }
  }
}

void add_value(State* L, std::string* b, const PatternMatcher& m, size_t s, size_t e) {
  const Value& repl = arg(L, 3);
  Value* slot = L->top;
  switch (repl.tt) {
    case kTFunction: {
      push(L, repl);
      int n = push_captures(L, m, /*whole=*/true, s, e);
      (void)n;
      vm_call(L, slot, 1);
      break;
    }
    case kTTable: {
      push_onecapture(L, m, 0, s, e);
      Value key = L->top[-1];
      Value v = vm_gettable(L, arg(L, 3), key);
      L->top[-1] = v;
      break;
    }
    default:
      add_s(L, b, m, s, e);
      return;
  }
  L->top = slot + 1;
  const Value& v = *slot;
  if (v.is_falsy()) {
    b->append(m.subject() + s, e - s);  // keep the original text
  } else if (!v.is_string() && !v.is_number()) {
    error(L, "invalid replacement value (a %s)", type_name(v.tt));
  } else {
    append_value_string(L, b, v);
  }
  L->top = slot;
}

int str_gsub(State* L) {
  PatternBudgetScope budget(L);
  String* src = check_string(L, 1);
  String* p = check_string(L, 2);
  int tr = arg(L, 3).tt;
  if (!(tr == kTNumber || tr == kTString || tr == kTFunction || tr == kTTable)) {
    arg_error(L, 3, "string/function/table expected");
  }
  if (tr == kTNumber) check_string(L, 3);  // converted in place, as lua_tolstring does
  int64_t max_s = opt_integer(L, 4, static_cast<int64_t>(src->len) + 1);
  // Keep the subject and pattern anchored on the stack for the whole call:
  // argument slots stay put even if a replacement function runs the GC.
  const char* pat = p->data;
  size_t plen = p->len;
  bool anchor = plen > 0 && pat[0] == '^';
  size_t poff = anchor ? 1 : 0;
  std::string b;
  int64_t n = 0;
  size_t s = 0;
  size_t len = src->len;
  try {
    PatternMatcher m(src->data, len, pat, plen);
    while (n < max_s) {
      size_t e = 0;
      bool ok = m.match_here(s, poff, &e);
      if (ok) {
        n++;
        add_value(L, &b, m, s, e);
      }
      if (ok && e > s) {
        s = e;
      } else if (s < len) {
        b.push_back(src->data[s++]);
      } else {
        break;
      }
      if (anchor) break;
      if (b.size() > kMaxStringResult) error(L, "not enough memory");
    }
  } catch (const PatternError& e) {
    pattern_error(L, e);
  }
  b.append(src->data + s, len - s);
  push_string(L, b);
  push_number(L, static_cast<double>(n));
  return 2;
}

// ---- format ---------------------------------------------------------------------

void add_quoted(State* L, std::string* b, int argi) {
  String* s = check_string(L, argi);
  b->push_back('"');
  for (size_t i = 0; i < s->len; i++) {
    char c = s->data[i];
    switch (c) {
      case '"':
      case '\\':
      case '\n':
        b->push_back('\\');
        b->push_back(c);
        break;
      case '\r':
        b->append("\\r");
        break;
      case '\0':
        b->append("\\000");
        break;
      default:
        b->push_back(c);
        break;
    }
  }
  b->push_back('"');
}

// Parses flags/width/precision after '%' (scanformat of Lua 5.1) and returns
// the C format spec up to and including the conversion character.
const char* scan_format(State* L, const char* strfrmt, std::string* form) {
  const char* p = strfrmt;
  while (*p != '\0' && std::strchr(kFormatFlags, *p) != nullptr) p++;
  if (static_cast<size_t>(p - strfrmt) >= std::strlen(kFormatFlags) + 1) {
    error(L, "invalid format (repeated flags)");
  }
  if (std::isdigit(static_cast<unsigned char>(*p))) p++;
  if (std::isdigit(static_cast<unsigned char>(*p))) p++;
  if (*p == '.') {
    p++;
    if (std::isdigit(static_cast<unsigned char>(*p))) p++;
    if (std::isdigit(static_cast<unsigned char>(*p))) p++;
  }
  if (std::isdigit(static_cast<unsigned char>(*p))) {
    error(L, "invalid format (width or precision too long)");
  }
  form->assign("%");
  form->append(strfrmt, static_cast<size_t>(p - strfrmt) + 1);
  return p;
}

// snprintf into a growable buffer; the result is cut at the first NUL, as Lua
// 5.1 does with strlen (so "%c" of 0 adds nothing).
template <typename T>
void add_formatted(std::string* b, const std::string& form, T value) {
  char small[512];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
  int n = std::snprintf(small, sizeof small, form.c_str(), value);
  if (n < 0) return;
  if (static_cast<size_t>(n) < sizeof small) {
    b->append(small, std::strlen(small));
    return;
  }
  std::vector<char> big(static_cast<size_t>(n) + 1);
  std::snprintf(big.data(), big.size(), form.c_str(), value);
#pragma GCC diagnostic pop
  b->append(big.data(), std::strlen(big.data()));
}

int str_format(State* L) {
  int top = nargs(L);
  int argi = 1;
  String* fs = check_string(L, argi);
  const char* strfrmt = fs->data;
  const char* strfrmt_end = strfrmt + fs->len;
  std::string b;
  std::string form;
  while (strfrmt < strfrmt_end) {
    if (*strfrmt != '%') {
      b.push_back(*strfrmt++);
      continue;
    }
    if (*++strfrmt == '%') {
      b.push_back(*strfrmt++);
      continue;
    }
    if (++argi > top) arg_error(L, argi, "no value");
    strfrmt = scan_format(L, strfrmt, &form);
    char conv = *strfrmt++;
    switch (conv) {
      case 'c':
        add_formatted(&b, form, double_to_int(check_number(L, argi)));
        break;
      case 'd':
      case 'i':
        form.insert(form.size() - 1, "l");
        add_formatted(&b, form, double_to_long(check_number(L, argi)));
        break;
      case 'o':
      case 'u':
      case 'x':
      case 'X':
        form.insert(form.size() - 1, "l");
        add_formatted(&b, form, double_to_ulong(check_number(L, argi)));
        break;
      case 'e':
      case 'E':
      case 'f':
      case 'g':
      case 'G':
        add_formatted(&b, form, check_number(L, argi));
        break;
      case 'q':
        add_quoted(L, &b, argi);
        break;
      case 's': {
        String* s = check_string(L, argi);
        if (form.find('.') == std::string::npos && s->len >= 100) {
          // No precision and a long string: keep it whole (embedded NULs too).
          b.append(s->data, s->len);
        } else {
          add_formatted(&b, form, s->c_str());
        }
        break;
      }
      default:
        if (conv == '\0') error(L, "invalid option '%%' to 'format'");
        error(L, "invalid option '%%%c' to 'format'", conv);
    }
  }
  push_string(L, b);
  return 1;
}

const NativeReg kStringLib[] = {
    {"byte", str_byte},
    {"char", str_char},
    {"dump", str_dump},
    {"find", str_find},
    {"format", str_format},
    {"gfind", str_gmatch},  // LUA_COMPAT_GFIND, on in Lua 5.1's default build
    {"gmatch", str_gmatch},
    {"gsub", str_gsub},
    {"len", str_len},
    {"lower", str_lower},
    {"match", str_match},
    {"rep", str_rep},
    {"reverse", str_reverse},
    {"sub", str_sub},
    {"upper", str_upper},
    {nullptr, nullptr},
};

}  // namespace

void open_string(State* L) {
  Table* string_lib = register_lib(L, "string", kStringLib);
  // Strings share one metatable whose __index is the string table, so
  // ("x"):rep(3) finds string.rep.
  Table* mt = table_new(L, 0, 1);
  set_field(L, mt, "__index", Value::table(string_lib));
  L->g->mt_string = mt;
}

}  // namespace jitvm
