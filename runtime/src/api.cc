// Helpers for natives: argument checking, protected calls, library registration, loading.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>

#include "vm_internal.h"

namespace jitvm {

static const Value kNil = Value::nil();

const Value& arg(State* L, int i) {
  if (i < 1 || i > nargs(L)) return kNil;
  return L->base[i - 1];
}

bool arg_absent(State* L, int i) { return arg(L, i).is_nil(); }

void arg_error(State* L, int i, const char* extramsg) {
  const char* name = nullptr;
  const char* kind = get_funcname(L, L->ci, &name);
  if (kind && strcmp(kind, "method") == 0) {
    i--;
    if (i == 0) error(L, "calling '%s' on bad self (%s)", name, extramsg);
  }
  if (!name) name = "?";
  error(L, "bad argument #%d to '%s' (%s)", i, name, extramsg);
}

void type_error(State* L, int i, const char* expected) {
  const char* actual = i > nargs(L) ? "no value" : type_name(arg(L, i).tt);
  std::string msg = std::string(expected) + " expected, got " + actual;
  arg_error(L, i, msg.c_str());
}

void check_any(State* L, int i) {
  if (i > nargs(L)) arg_error(L, i, "value expected");
}

void check_type(State* L, int i, int tag) {
  if (i > nargs(L) || arg(L, i).tt != tag) type_error(L, i, type_name(tag));
}

double check_number(State* L, int i) {
  double d;
  if (!to_number(arg(L, i), &d)) {
    type_error(L, i, "number");
  }
  return d;
}

double opt_number(State* L, int i, double def) { return arg_absent(L, i) ? def : check_number(L, i); }

int64_t check_integer(State* L, int i) {
  double d = check_number(L, i);
  // lua_Integer is ptrdiff_t; out-of-range doubles saturate instead of UB.
  if (d >= 9.2233720368547758e18) return INT64_MAX;
  if (d <= -9.2233720368547758e18) return INT64_MIN;
  if (d != d) return 0;
  return static_cast<int64_t>(d);
}

int64_t opt_integer(State* L, int i, int64_t def) { return arg_absent(L, i) ? def : check_integer(L, i); }

String* check_string(State* L, int i) {
  if (i <= nargs(L)) {
    Value& v = L->base[i - 1];
    if (v.is_string()) return v.as_string();
    if (v.is_number()) {
      String* s = to_string_coerce(L, v);
      v = Value::string(s);
      return s;
    }
  }
  type_error(L, i, "string");
}

String* opt_string(State* L, int i, String* def) { return arg_absent(L, i) ? def : check_string(L, i); }

Table* check_table(State* L, int i) {
  check_type(L, i, kTTable);
  return arg(L, i).as_table();
}

int check_option(State* L, int i, const char* def, const char* const names[]) {
  const char* name = def && arg_absent(L, i) ? def : check_string(L, i)->data;
  for (int j = 0; names[j]; j++)
    if (strcmp(names[j], name) == 0) return j;
  std::string msg = std::string("invalid option '") + name + "'";
  arg_error(L, i, msg.c_str());
}

void check_stack(State* L, int n) {
  if (L->top + n + kMinStackForNative >= L->stack_last) error(L, "stack overflow");
  if (L->top + n > L->ci->top) L->ci->top = L->top + n;
  if (L->ci->top > L->stack_hwm) L->stack_hwm = L->ci->top;
}

// ---- Protected calls ------------------------------------------------------------------
int vm_pcall(State* L, Value* func, int nresults, const Value* handler) {
  ptrdiff_t func_off = func - L->stack;
  ptrdiff_t ci_off = L->ci - L->base_ci;
  int n_ccalls = L->n_ccalls;
  Value h = handler ? *handler : Value::nil();
  // The handler must stay reachable while the call runs: keep it below func.
  int status = 0;
  try {
    vm_call(L, func, nresults);
    return 0;
  } catch (const LuaError& e) {
    status = 2;
  } catch (const std::bad_alloc&) {
    L->error_slot = Value::string(new_fixed_string(L, "not enough memory"));
    status = 4;
  } catch (const VmtestCppException&) {
    L->error_slot = Value::string(new_fixed_string(L, "C++ exception caught by pcall"));
    status = 2;
  }
  Value err = L->error_slot;
  if (!h.is_nil() && status == 2) {
    // Run the message handler at the point of the error (frames still in place), with
    // some extra room so a handler can run even after a stack overflow.
    CallInfo* saved_end = L->end_ci;
    L->end_ci = L->base_ci + kMaxCalls + kMaxCalls / 10;
    int saved_cc = L->n_ccalls;
    L->n_ccalls = n_ccalls;
    Value* top = L->ci->top > L->top ? L->ci->top : L->top;
    if (top + 4 >= L->stack_last) top = L->top;
    L->top = top;
    top[0] = h;
    top[1] = err;
    L->top = top + 2;
    try {
      vm_call(L, top, 1);
      err = *top;
    } catch (const LuaError&) {
      err = L->error_slot;
      status = 5;
    } catch (const std::bad_alloc&) {
      status = 4;
    }
    L->n_ccalls = saved_cc;
    L->end_ci = saved_end;
  }
  // Unwind: close upvalues of the dead frames and restore the frame state.
  Value* f = L->stack + func_off;
  close_upvals(L, f);
  L->ci = L->base_ci + ci_off;
  L->base = L->ci->base;
  L->n_ccalls = n_ccalls;
  *f = err;
  L->top = f + 1;
  L->error_slot = Value::nil();
  return status;
}

// ---- tostring ---------------------------------------------------------------------------
String* vm_tostring(State* L, const Value& v) {
  Table* mt = get_metatable(L, v);
  if (mt) {
    const Value* f = table_get_str(mt, new_string(L, "__tostring", 10));
    if (!f->is_nil()) {
      Value* func = L->top;
      func[0] = *f;
      func[1] = v;
      L->top = func + 2;
      vm_call(L, func, 1);
      Value r = *func;
      L->top = func;
      if (!r.is_string()) {
        if (r.is_number()) return to_string_coerce(L, r);
        error(L, "'__tostring' must return a string");
      }
      return r.as_string();
    }
  }
  char buf[64];
  switch (v.tt) {
    case kTNumber: return to_string_coerce(L, v);
    case kTString: return v.as_string();
    case kTBoolean: return new_string(L, v.b ? "true" : "false");
    case kTNil: return new_string(L, "nil");
    default: {
      int n = snprintf(buf, sizeof buf, "%s: %p", type_name(v.tt), v.p);
      return new_string(L, buf, static_cast<size_t>(n));
    }
  }
}

// ---- Libraries ------------------------------------------------------------------------------
void set_field(State* L, Table* t, const char* name, const Value& v) {
  table_set(L, t, Value::string(new_string(L, name, strlen(name))), v);
}

Value get_field(State* L, Table* t, const char* name) {
  return *table_get_str(t, new_string(L, name, strlen(name)));
}

Table* register_lib(State* L, const char* libname, const NativeReg* fns) {
  Table* globals = L->globals.as_table();
  Table* lib = globals;
  if (libname) {
    Value existing = get_field(L, globals, libname);
    if (existing.is_table()) {
      lib = existing.as_table();
    } else {
      lib = table_new(L, 0, 16);
      set_field(L, globals, libname, Value::table(lib));
    }
    Value loaded = get_field(L, L->registry.as_table(), "_LOADED");
    if (loaded.is_table()) set_field(L, loaded.as_table(), libname, Value::table(lib));
  }
  for (const NativeReg* r = fns; r->name; r++)
    set_field(L, lib, r->name, Value::function(new_native(L, r->fn, r->name)));
  return lib;
}

// ---- Loading ---------------------------------------------------------------------------------
int load_buffer(State* L, const char* src, size_t len, const char* chunkname) {
  std::string err;
  if (len > 0 && src[0] == '\033') {
    push_string(L, std::string(chunkname[0] == '=' || chunkname[0] == '@' ? chunkname + 1 : chunkname) +
                       ": bad header in precompiled chunk");
    return 3;
  }
  Proto* p = compile_chunk(L, src, len, chunkname, &err);
  if (!p) {
    push_string(L, err);
    return 3;
  }
  assign_function_names(p);
  register_chunk_source(L, p, src, len);
  Closure* cl = new_lua_closure(L, p, L->globals.as_table());
  push(L, Value::function(cl));
  return 0;
}

int load_file(State* L, const char* path) {
  std::string chunkname;
  FILE* f;
  if (path) {
    chunkname = std::string("@") + path;
    f = fopen(path, "rb");
    if (!f) {
      push_string(L, std::string("cannot open ") + path + ": " + strerror(errno));
      return 6;
    }
  } else {
    chunkname = "=stdin";
    f = stdin;
  }
  std::string content;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) content.append(buf, n);
  bool failed = ferror(f);
  if (path) fclose(f);
  if (failed) {
    push_string(L, std::string("cannot read ") + (path ? path : "stdin"));
    return 6;
  }
  // Skip a first line starting with '#' (shebang), keeping line numbers.
  size_t start = 0;
  if (!content.empty() && content[0] == '#') {
    start = content.find('\n');
    if (start == std::string::npos) start = content.size();
  }
  std::string src = start ? content.substr(start) : content;
  if (start) src.insert(0, "\n", 0);
  return load_buffer(L, src.data(), src.size(), chunkname.c_str());
}

}  // namespace jitvm
