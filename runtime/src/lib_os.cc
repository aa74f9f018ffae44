// The Lua 5.1 `os` library (loslib.c semantics, POSIX flavour as on Debian).
#include <unistd.h>

#include <cerrno>
#include <clocale>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

#include "api.h"

namespace jitvm {

namespace {

// Room for one strftime conversion, as loslib.c's buffer.
constexpr size_t kDateItemSize = 200;

// os_pushresult of loslib.c: true, or nil + "name: strerror" + errno.
int push_result(State* L, bool ok, const char* filename) {
  int en = errno;
  if (ok) {
    push_bool(L, true);
    return 1;
  }
  push_nil(L);
  std::string msg = std::string(filename) + ": " + std::strerror(en);
  push_string(L, msg);
  push_number(L, en);
  return 3;
}

// Fuzzing runs scripts with Global::sandbox set: nothing may touch the file
// system, the process or the locale.
void refuse_in_sandbox(State* L, const char* what) {
  if (L->g->sandbox) error(L, "'%s' is disabled in the sandbox", what);
}

int os_execute(State* L) {
  refuse_in_sandbox(L, "execute");
  String* cmd = opt_string(L, 1, nullptr);
  std::fflush(nullptr);  // keep our buffered output ahead of the child's
  push_number(L, std::system(cmd ? cmd->c_str() : nullptr));
  return 1;
}

int os_remove(State* L) {
  refuse_in_sandbox(L, "remove");
  const char* name = check_string(L, 1)->c_str();
  return push_result(L, std::remove(name) == 0, name);
}

int os_rename(State* L) {
  refuse_in_sandbox(L, "rename");
  const char* from = check_string(L, 1)->c_str();
  const char* to = check_string(L, 2)->c_str();
  return push_result(L, std::rename(from, to) == 0, from);
}

int os_tmpname(State* L) {
  refuse_in_sandbox(L, "tmpname");
  char buf[] = "/tmp/lua_XXXXXX";
  int fd = mkstemp(buf);
  if (fd == -1) error(L, "unable to generate a unique filename");
  close(fd);
  push_string(L, buf);
  return 1;
}

int os_getenv(State* L) {
  const char* v = std::getenv(check_string(L, 1)->c_str());
  if (v == nullptr) {
    push_nil(L);
  } else {
    push_string(L, v);
  }
  return 1;
}

int os_clock(State* L) {
  push_number(L, static_cast<double>(std::clock()) / static_cast<double>(CLOCKS_PER_SEC));
  return 1;
}

void set_int_field(State* L, Table* t, const char* key, int value) {
  set_field(L, t, key, Value::number(value));
}

void set_bool_field(State* L, Table* t, const char* key, int value) {
  if (value < 0) return;  // undefined
  set_field(L, t, key, Value::boolean(value != 0));
}

int os_date(State* L) {
  String* fmt = opt_string(L, 1, nullptr);
  // Like Lua 5.1, the format is read as a C string (up to its first NUL).
  std::string s = fmt ? std::string(fmt->c_str()) : "%c";
  time_t t = arg_absent(L, 2) ? std::time(nullptr) : static_cast<time_t>(check_number(L, 2));
  struct tm tmbuf;
  struct tm* stm;
  size_t i = 0;
  if (!s.empty() && s[0] == '!') {
    stm = gmtime_r(&t, &tmbuf);
    i = 1;
  } else {
    stm = localtime_r(&t, &tmbuf);
  }
  if (stm == nullptr) {
    push_nil(L);
    return 1;
  }
  // Lua 5.1 compares the C string, so "*t" followed by a NUL still counts.
  if (std::strcmp(s.c_str() + i, "*t") == 0) {
    Table* tt = table_new(L, 0, 9);
    push_table(L, tt);
    set_int_field(L, tt, "sec", stm->tm_sec);
    set_int_field(L, tt, "min", stm->tm_min);
    set_int_field(L, tt, "hour", stm->tm_hour);
    set_int_field(L, tt, "day", stm->tm_mday);
    set_int_field(L, tt, "month", stm->tm_mon + 1);
    set_int_field(L, tt, "year", stm->tm_year + 1900);
    set_int_field(L, tt, "wday", stm->tm_wday + 1);
    set_int_field(L, tt, "yday", stm->tm_yday + 1);
    set_bool_field(L, tt, "isdst", stm->tm_isdst);
    return 1;
  }
  std::string out;
  for (; i < s.size(); i++) {
    if (s[i] != '%' || i + 1 >= s.size() || s[i + 1] == '\0') {
      out.push_back(s[i]);
      continue;
    }
    char cc[3] = {'%', s[++i], '\0'};
    char buf[kDateItemSize];
    size_t n = std::strftime(buf, sizeof buf, cc, stm);
    out.append(buf, n);
  }
  push_string(L, out);
  return 1;
}

int get_date_field(State* L, const Value& t, const char* key, int def) {
  Value v = vm_gettable(L, t, Value::string(new_string(L, key)));
  double d;
  if (to_number(v, &d)) {
    if (!(d >= -2147483648.0 && d <= 2147483647.0)) return d > 0 ? INT32_MAX : INT32_MIN;  // NaN too
    return static_cast<int>(d);
  }
  if (def < 0) error(L, "field '%s' missing in date table", key);
  return def;
}

int get_bool_field(State* L, const Value& t, const char* key) {
  Value v = vm_gettable(L, t, Value::string(new_string(L, key)));
  return v.is_nil() ? -1 : (v.is_falsy() ? 0 : 1);
}

int os_time(State* L) {
  time_t t;
  if (arg_absent(L, 1)) {
    t = std::time(nullptr);
  } else {
    check_type(L, 1, kTTable);
    L->top = L->base + 1;
    Value tv = arg(L, 1);
    struct tm ts;
    std::memset(&ts, 0, sizeof ts);
    ts.tm_sec = get_date_field(L, tv, "sec", 0);
    ts.tm_min = get_date_field(L, tv, "min", 0);
    ts.tm_hour = get_date_field(L, tv, "hour", 12);
    ts.tm_mday = get_date_field(L, tv, "day", -1);
    ts.tm_mon = get_date_field(L, tv, "month", -1) - 1;
    ts.tm_year = get_date_field(L, tv, "year", -1) - 1900;
    ts.tm_isdst = get_bool_field(L, tv, "isdst");
    t = std::mktime(&ts);
  }
  if (t == static_cast<time_t>(-1)) {
    push_nil(L);
  } else {
    push_number(L, static_cast<double>(t));
  }
  return 1;
}

int os_difftime(State* L) {
  time_t t1 = static_cast<time_t>(check_number(L, 1));
  time_t t2 = static_cast<time_t>(opt_number(L, 2, 0));
  push_number(L, std::difftime(t1, t2));
  return 1;
}

int os_setlocale(State* L) {
  refuse_in_sandbox(L, "setlocale");
  static const int kCategories[] = {LC_ALL, LC_COLLATE, LC_CTYPE, LC_MONETARY, LC_NUMERIC, LC_TIME};
  static const char* const kNames[] = {"all", "collate", "ctype", "monetary", "numeric", "time", nullptr};
  String* l = opt_string(L, 1, nullptr);
  int op = check_option(L, 2, "all", kNames);
  const char* r = std::setlocale(kCategories[op], l ? l->c_str() : nullptr);
  if (r == nullptr) {
    push_nil(L);
  } else {
    push_string(L, r);
  }
  return 1;
}

int os_exit(State* L) {
  refuse_in_sandbox(L, "exit");
  int code = static_cast<int>(opt_integer(L, 1, EXIT_SUCCESS));
  // io.write and print use C stdio; exit() flushes every FILE*, this just
  // makes the ordering explicit.
  std::fflush(nullptr);
  std::exit(code);
}

const NativeReg kOsLib[] = {
    {"clock", os_clock},
    {"date", os_date},
    {"difftime", os_difftime},
    {"execute", os_execute},
    {"exit", os_exit},
    {"getenv", os_getenv},
    {"remove", os_remove},
    {"rename", os_rename},
    {"setlocale", os_setlocale},
    {"time", os_time},
    {"tmpname", os_tmpname},
    {nullptr, nullptr},
};

}  // namespace

void open_os(State* L) { register_lib(L, "os", kOsLib); }

}  // namespace jitvm
