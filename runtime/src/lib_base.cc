// The base library and package/require, as in Lua 5.1's lbaselib.c and loadlib.c.
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "vm_internal.h"

namespace jitvm {

// Outside the anonymous namespace: the JIT's TFORLOOP recognizes them (vm_internal.h).
int base_next(State* L) {
  Table* t = check_table(L, 1);
  Value key = arg(L, 2);
  Value val;
  if (table_next(L, t, &key, &val)) {
    push(L, key);
    push(L, val);
    return 2;
  }
  push_nil(L);
  return 1;
}

int ipairs_aux(State* L) {
  Table* t = check_table(L, 1);
  int64_t i = check_integer(L, 2) + 1;
  const Value* v = table_get_int(t, i);
  if (v->is_nil()) return 0;
  push_number(L, static_cast<double>(i));
  push(L, *v);
  return 2;
}

namespace {

// package.loaded marker while a module is loading (detects require cycles).
const char kLoadingSentinel[] = "jitvm.loading";
bool is_loading_sentinel(const Value* v) { return v->tt == kTLightUserdata && v->p == kLoadingSentinel; }

int base_tostring(State* L) {
  check_any(L, 1);
  push(L, Value::string(vm_tostring(L, arg(L, 1))));
  return 1;
}

int base_print(State* L) {
  int n = nargs(L);
  Value tostring_fn = get_field(L, L->globals.as_table(), "tostring");
  bool builtin = tostring_fn.is_function() && tostring_fn.as_closure()->is_native &&
                 tostring_fn.as_closure()->fn == base_tostring;
  for (int i = 1; i <= n; i++) {
    String* s;
    if (builtin) {
      s = vm_tostring(L, L->base[i - 1]);
    } else {
      Value* func = L->top;
      func[0] = tostring_fn;
      func[1] = L->base[i - 1];
      L->top = func + 2;
      vm_call(L, func, 1);
      L->top = func;
      if (!func->is_string() && !func->is_number()) error(L, "'tostring' must return a string to 'print'");
      s = to_string_coerce(L, *func);
    }
    if (i > 1) fputs("\t", stdout);
    fputs(s->data, stdout);
  }
  fputs("\n", stdout);
  return 0;
}

int base_type(State* L) {
  check_any(L, 1);
  push_string(L, type_name(arg(L, 1).tt));
  return 1;
}

int base_tonumber(State* L) {
  int base = static_cast<int>(opt_integer(L, 2, 10));
  if (base == 10) {
    check_any(L, 1);
    double d;
    if (to_number(arg(L, 1), &d)) {
      push_number(L, d);
      return 1;
    }
  } else {
    const char* s1 = check_string(L, 1)->data;
    if (!(2 <= base && base <= 36)) arg_error(L, 2, "base out of range");
    char* s2;
    unsigned long n = strtoul(s1, &s2, base);
    if (s1 != s2) {
      while (isspace(static_cast<unsigned char>(*s2))) s2++;
      if (*s2 == '\0') {
        push_number(L, static_cast<double>(n));
        return 1;
      }
    }
  }
  push_nil(L);
  return 1;
}

int base_pairs(State* L) {
  check_table(L, 1);
  Value t = arg(L, 1);
  push(L, get_field(L, L->registry.as_table(), "_next"));
  push(L, t);
  push_nil(L);
  return 3;
}

int base_ipairs(State* L) {
  check_table(L, 1);
  Value t = arg(L, 1);
  push(L, get_field(L, L->registry.as_table(), "_ipairs_aux"));
  push(L, t);
  push_number(L, 0);
  return 3;
}

int base_select(State* L) {
  int n = nargs(L);
  const Value& a = arg(L, 1);
  if (a.is_string() && a.as_string()->data[0] == '#') {
    push_number(L, n - 1);
    return 1;
  }
  int64_t i = check_integer(L, 1);
  if (i < 0)
    i = n + i;
  else if (i > n)
    i = n;
  if (i < 1) arg_error(L, 1, "index out of range");
  return n - static_cast<int>(i);
}

int base_unpack(State* L) {
  Table* t = check_table(L, 1);
  int64_t i = opt_integer(L, 2, 1);
  int64_t e = arg_absent(L, 3) ? table_length(t) : check_integer(L, 3);
  if (i > e) return 0;
  int64_t n = e - i + 1;
  if (n <= 0 || n >= INT32_MAX || L->top + n + kMinStackForNative >= L->stack_last)
    error(L, "too many results to unpack");
  check_stack(L, static_cast<int>(n));
  for (int64_t k = i; k <= e; k++) push(L, *table_get_int(t, k));
  return static_cast<int>(n);
}

int base_rawget(State* L) {
  Table* t = check_table(L, 1);
  check_any(L, 2);
  push(L, *table_get(t, arg(L, 2)));
  return 1;
}

int base_rawset(State* L) {
  Table* t = check_table(L, 1);
  check_any(L, 2);
  check_any(L, 3);
  table_set(L, t, arg(L, 2), arg(L, 3));
  t->flags = 0;
  push(L, arg(L, 1));
  return 1;
}

int base_rawequal(State* L) {
  check_any(L, 1);
  check_any(L, 2);
  push_bool(L, raw_equal(arg(L, 1), arg(L, 2)));
  return 1;
}

int base_getmetatable(State* L) {
  check_any(L, 1);
  Table* mt = get_metatable(L, arg(L, 1));
  if (!mt) {
    push_nil(L);
    return 1;
  }
  Value protected_mt = get_field(L, mt, "__metatable");
  push(L, protected_mt.is_nil() ? Value::table(mt) : protected_mt);
  return 1;
}

int base_setmetatable(State* L) {
  Table* t = check_table(L, 1);
  const Value& mt = arg(L, 2);
  if (!(mt.is_nil() || mt.is_table())) type_error(L, 2, "nil or table");
  if (t->metatable && !get_field(L, t->metatable, "__metatable").is_nil())
    error(L, "cannot change a protected metatable");
  t->metatable = mt.is_nil() ? nullptr : mt.as_table();
  if (t->metatable) t->metatable->flags = 0;
  push(L, arg(L, 1));
  return 1;
}

int base_assert(State* L) {
  check_any(L, 1);
  if (arg(L, 1).is_falsy()) {
    if (arg_absent(L, 2)) error(L, "%s", "assertion failed!");
    String* msg = check_string(L, 2);
    throw_value(L, Value::string(msg));
  }
  return nargs(L);
}

int base_error(State* L) {
  int level = static_cast<int>(opt_integer(L, 2, 1));
  Value v = arg(L, 1);
  if ((v.is_string() || v.is_number()) && level > 0) {
    String* s = to_string_coerce(L, v);
    std::string msg = where(L, level) + s->str();
    throw_value(L, Value::string(new_string(L, msg)));
  }
  throw_value(L, v);
}

int base_pcall(State* L) {
  check_any(L, 1);
  Value* func = L->base;
  int status = vm_pcall(L, func, kMultRet, nullptr);
  // Insert the status boolean before the results.
  for (Value* p = L->top; p > func; p--) *p = p[-1];
  L->top++;
  *func = Value::boolean(status == 0);
  return static_cast<int>(L->top - func);
}

int base_xpcall(State* L) {
  check_any(L, 2);
  Value handler = arg(L, 2);
  Value f = arg(L, 1);
  // Layout: base[0] = handler (kept alive), base[1] = f
  L->base[0] = handler;
  L->base[1] = f;
  L->top = L->base + 2;
  Value* func = L->base + 1;
  int status = vm_pcall(L, func, kMultRet, &L->base[0]);
  *L->base = Value::boolean(status == 0);
  return static_cast<int>(L->top - L->base);
}

int base_collectgarbage(State* L) {
  static const char* const kOpts[] = {"stop", "restart", "collect", "count", "step", "setpause", "setstepmul", nullptr};
  int o = check_option(L, 1, "collect", kOpts);
  int64_t ex = opt_integer(L, 2, 0);
  Global* g = L->g;
  switch (o) {
    case 0:
      g->gc_threshold = SIZE_MAX;
      push_number(L, 0);
      return 1;
    case 1:
      g->gc_threshold = g->total_bytes;
      push_number(L, 0);
      return 1;
    case 2:
      gc_collect(L);
      push_number(L, 0);
      return 1;
    case 3:
      push_number(L, static_cast<double>(g->total_bytes) / 1024.0);
      return 1;
    case 4:
      gc_collect(L);
      push_bool(L, true);
      return 1;
    case 5: {
      int prev = g->gc_pause;
      g->gc_pause = static_cast<int>(ex);
      push_number(L, prev);
      return 1;
    }
    default:
      push_number(L, 200);
      return 1;
  }
}

int base_gcinfo(State* L) {
  push_number(L, static_cast<double>(L->g->total_bytes / 1024));
  return 1;
}

int load_aux(State* L, int status) {
  if (status == 0) return 1;
  // error message is on top: return nil, msg
  Value msg = L->top[-1];
  L->top[-1] = Value::nil();
  push(L, msg);
  return 2;
}

int base_loadstring(State* L) {
  String* s = check_string(L, 1);
  String* name = opt_string(L, 2, s);
  return load_aux(L, load_buffer(L, s->data, s->len, name->data));
}

int base_load(State* L) {
  String* name = opt_string(L, 2, nullptr);
  check_type(L, 1, kTFunction);
  Value reader_fn = arg(L, 1);
  std::string reader_error;
  bool reader_failed = false;
  auto reader = [&](std::string* piece) -> bool {
    if (reader_failed) return false;
    Value* func = L->top;
    func[0] = reader_fn;
    L->top = func + 1;
    // Protected: an error in the reader ends the load with (nil, message).
    if (vm_pcall(L, func, 1, nullptr) != 0) {
      L->top = func;
      reader_failed = true;
      String* msg = to_string_coerce(L, *func);
      reader_error = msg ? msg->str() : "error in reader function";
      return false;
    }
    L->top = func;
    if (func->is_nil()) return false;
    if (!func->is_string()) {
      reader_failed = true;
      reader_error = "reader function must return a string";
      return false;
    }
    piece->assign(func->as_string()->data, func->as_string()->len);
    return true;
  };
  std::string err;
  Proto* p = compile_chunk_reader(L, reader, name ? name->data : "=(load)", &err);
  if (reader_failed) {
    push_nil(L);
    push_string(L, reader_error);
    return 2;
  }
  if (!p) {
    push_nil(L);
    push_string(L, err);
    return 2;
  }
  assign_function_names(p);
  push(L, Value::function(new_lua_closure(L, p, L->globals.as_table())));
  return 1;
}

int base_loadfile(State* L) {
  String* fname = opt_string(L, 1, nullptr);
  return load_aux(L, load_file(L, fname ? fname->data : nullptr));
}

int base_dofile(State* L) {
  String* fname = opt_string(L, 1, nullptr);
  L->top = L->base + 1;
  Value* func = L->top;
  if (load_file(L, fname ? fname->data : nullptr) != 0) throw_value(L, L->top[-1]);
  vm_call(L, func, kMultRet);
  return static_cast<int>(L->top - func);
}

Table* env_of(State* L, int i, const char* fname) {
  const Value& f = arg(L, i);
  if (f.is_function()) return f.as_closure()->env;
  int64_t level = arg_absent(L, i) ? 1 : check_integer(L, i);
  if (level < 0) arg_error(L, i, "level must be non-negative");
  if (level == 0) return L->globals.as_table();
  CallInfo* ci = L->ci - level;
  if (ci <= L->base_ci) arg_error(L, i, "invalid level");
  (void)fname;
  return ci_func(ci)->env;
}

int base_getfenv(State* L) {
  const Value& f = arg(L, 1);
  if (f.is_function() && f.as_closure()->is_native) {
    push(L, L->globals);
    return 1;
  }
  push_table(L, env_of(L, 1, "getfenv"));
  return 1;
}

int base_setfenv(State* L) {
  Table* t = check_table(L, 2);
  const Value& f = arg(L, 1);
  if (f.is_number() && f.n == 0) {
    L->globals = Value::table(t);
    return 0;
  }
  Closure* c;
  if (f.is_function()) {
    c = f.as_closure();
  } else {
    int64_t level = check_integer(L, 1);
    if (level < 0) arg_error(L, 1, "level must be non-negative");
    CallInfo* ci = L->ci - level;
    if (ci <= L->base_ci) arg_error(L, 1, "invalid level");
    c = ci_func(ci);
  }
  if (c->is_native) error(L, "'setfenv' cannot change environment of given object");
  c->env = t;
  push(L, Value::function(c));
  return 1;
}

int base_newproxy(State* L) {
  Table* mt = nullptr;
  const Value& a = arg(L, 1);
  if (a.is_boolean() && a.b) {
    mt = table_new(L, 0, 0);
  } else if (a.tt == kTUserdata) {
    mt = a.as_userdata()->metatable;  // share the metatable of another proxy
    if (!mt) arg_error(L, 1, "boolean or proxy expected");
  } else if (!(a.is_nil() || a.is_boolean())) {
    arg_error(L, 1, "boolean or proxy expected");
  }
  push(L, Value::object(&new_userdata(L, 0, mt)->hdr));
  return 1;
}

// ---- package / require ------------------------------------------------------------------
bool readable(const std::string& path) {
  FILE* f = fopen(path.c_str(), "r");
  if (!f) return false;
  fclose(f);
  return true;
}

int package_require(State* L) {
  String* name = check_string(L, 1);
  Table* loaded = get_field(L, L->registry.as_table(), "_LOADED").as_table();
  const Value* v = table_get_str(loaded, name);
  if (!v->is_nil()) {
    if (is_loading_sentinel(v)) error(L, "loop or previous error loading module '%s'", name->data);
    push(L, *v);
    return 1;
  }
  Table* package = get_field(L, loaded, "package").as_table();
  std::string tried;
  Value loader = Value::nil();
  Value preload = get_field(L, package, "preload");
  if (preload.is_table()) {
    const Value* p = table_get_str(preload.as_table(), name);
    if (!p->is_nil()) loader = *p;
  }
  if (loader.is_nil()) {
    tried += "\n\tno field package.preload['" + name->str() + "']";
    Value path = get_field(L, package, "path");
    if (!path.is_string()) error(L, "'package.path' must be a string");
    std::string modpath = name->str();
    for (char& c : modpath)
      if (c == '.') c = '/';
    std::string templates = path.as_string()->str();
    size_t pos = 0;
    while (pos <= templates.size()) {
      size_t semi = templates.find(';', pos);
      if (semi == std::string::npos) semi = templates.size();
      std::string tmpl = templates.substr(pos, semi - pos);
      pos = semi + 1;
      if (tmpl.empty()) continue;
      std::string file;
      for (char c : tmpl) {
        if (c == '?')
          file += modpath;
        else
          file += c;
      }
      if (readable(file)) {
        if (load_file(L, file.c_str()) != 0) {
          error(L, "error loading module '%s' from file '%s':\n\t%s", name->data, file.c_str(),
                L->top[-1].as_string()->data);
        }
        loader = L->top[-1];
        L->top--;
        break;
      }
      tried += "\n\tno file '" + file + "'";
    }
  }
  if (loader.is_nil()) error(L, "module '%s' not found:%s", name->data, tried.c_str());
  // Mark as being loaded to detect cycles.
  table_set_str(L, loaded, name, Value::light(const_cast<char*>(kLoadingSentinel)));
  Value* func = L->top;
  func[0] = loader;
  func[1] = Value::string(name);
  L->top = func + 2;
  vm_call(L, func, 1);
  L->top = func;
  if (!func->is_nil()) table_set_str(L, loaded, name, *func);
  const Value* res = table_get_str(loaded, name);
  if (is_loading_sentinel(res)) {
    table_set_str(L, loaded, name, Value::boolean(true));
    res = table_get_str(loaded, name);
  }
  push(L, *res);
  return 1;
}

const NativeReg kBaseFuncs[] = {
    {"assert", base_assert},
    {"collectgarbage", base_collectgarbage},
    {"dofile", base_dofile},
    {"error", base_error},
    {"gcinfo", base_gcinfo},
    {"getfenv", base_getfenv},
    {"getmetatable", base_getmetatable},
    {"loadstring", base_loadstring},
    {"loadfile", base_loadfile},
    {"load", base_load},
    {"next", base_next},
    {"pcall", base_pcall},
    {"print", base_print},
    {"rawequal", base_rawequal},
    {"rawget", base_rawget},
    {"rawset", base_rawset},
    {"select", base_select},
    {"setfenv", base_setfenv},
    {"setmetatable", base_setmetatable},
    {"tonumber", base_tonumber},
    {"tostring", base_tostring},
    {"type", base_type},
    {"unpack", base_unpack},
    {"xpcall", base_xpcall},
    {"newproxy", base_newproxy},
    {"ipairs", base_ipairs},
    {"pairs", base_pairs},
    {nullptr, nullptr},
};

}  // namespace

void open_base(State* L) {
  Table* g = L->globals.as_table();
  set_field(L, g, "_G", L->globals);
  register_lib(L, nullptr, kBaseFuncs);
  set_field(L, g, "_VERSION", Value::string(new_string(L, "Lua 5.1")));
  set_field(L, L->registry.as_table(), "_next", get_field(L, g, "next"));
  set_field(L, L->registry.as_table(), "_ipairs_aux", Value::function(new_native(L, ipairs_aux, "ipairs_aux")));
}

void open_package(State* L) {
  static const NativeReg kPackageFuncs[] = {{nullptr, nullptr}};
  Table* package = register_lib(L, "package", kPackageFuncs);
  std::string path;
  if (!L->g->script_dir.empty() && L->g->script_dir != ".")
    path = L->g->script_dir + "/?.lua;" + L->g->script_dir + "/?/init.lua;";
  const char* env = getenv("LUA_PATH");
  std::string def =
      "./?.lua;/usr/local/share/lua/5.1/?.lua;/usr/local/share/lua/5.1/?/init.lua;"
      "/usr/local/lib/lua/5.1/?.lua;/usr/local/lib/lua/5.1/?/init.lua;"
      "/usr/share/lua/5.1/?.lua;/usr/share/lua/5.1/?/init.lua";
  if (env) {
    std::string e = env;
    size_t p = e.find(";;");
    if (p != std::string::npos) e.replace(p, 2, ";" + def + ";");
    path += e;
  } else {
    path += def;
  }
  set_field(L, package, "path", Value::string(new_string(L, path)));
  set_field(L, package, "cpath", Value::string(new_string(L, "")));
  set_field(L, package, "loaded", get_field(L, L->registry.as_table(), "_LOADED"));
  set_field(L, package, "preload", Value::table(table_new(L, 0, 0)));
  set_field(L, L->globals.as_table(), "require", Value::function(new_native(L, package_require, "require")));
}

}  // namespace jitvm
