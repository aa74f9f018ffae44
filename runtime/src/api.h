// The interface used by the standard library (natives), the compiler and the
// jitvm main. Natives follow the PUC Lua convention: on entry the arguments
// are L->base[0 .. nargs-1] and L->top == L->base + nargs; a native pushes its
// results at L->top and returns how many it pushed (the last N pushed values).
// At least kMinStackForNative free slots are guaranteed above L->top on entry.
//
// Errors are C++ exceptions of type LuaError that carry the error value; they
// never leave the runtime library (vm_pcall and the jitvm main catch them).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "state.h"
#include "value.h"

namespace jitvm {

struct LuaError {
  Value value;  // the error object (kept alive by State::error_slot until caught)
};

// Thrown by vmtest.throw_cpp(): a foreign C++ exception that compiled frames
// must let through (their CFI is registered with the C++ runtime).
struct VmtestCppException {};

// ---- Strings -----------------------------------------------------------------
String* new_string(State* L, const char* s, size_t len);
inline String* new_string(State* L, std::string_view s) { return new_string(L, s.data(), s.size()); }
// Interned for the VM's lifetime (never collected): reserved words, metamethod names.
String* new_fixed_string(State* L, const char* s);

// Lua 5.1 number parsing (lua_str2number + luaO_str2d): decimal or 0x hex, surrounding
// whitespace allowed, nothing else.
bool str2number(const char* s, size_t len, double* out);
// "%.14g" formatting as Lua 5.1's lua_number2str. Returns length written (buf >= 32 bytes).
int number2str(double n, char* buf);
// Chunk id as luaO_chunkid: "@file" -> "file", "=name" -> "name", source -> [string "..."].
// `bufflen` is LUA_IDSIZE (60) for runtime messages; the lexer uses its MAXSRC (80).
std::string chunk_id(const String* source, size_t bufflen = 60);

// ---- Objects -----------------------------------------------------------------
Closure* new_native(State* L, NativeFn fn, const char* name, int nupvalues = 0);
Closure* new_lua_closure(State* L, Proto* p, Table* env);
Proto* new_proto(State* L);
Userdata* new_userdata(State* L, size_t size, Table* metatable);

// ---- Argument checking (1-based argument numbers, as in Lua messages) ---------
inline int nargs(State* L) { return static_cast<int>(L->top - L->base); }
// Returns the argument or a nil value when absent (never out of bounds).
const Value& arg(State* L, int i);
bool arg_absent(State* L, int i);  // no value or nil
[[noreturn]] void arg_error(State* L, int i, const char* extramsg);
[[noreturn]] void type_error(State* L, int i, const char* expected);
void check_any(State* L, int i);
double check_number(State* L, int i);
double opt_number(State* L, int i, double def);
// luaL_checkinteger: the number truncated toward zero (lua_Integer is ptrdiff_t).
int64_t check_integer(State* L, int i);
int64_t opt_integer(State* L, int i, int64_t def);
// Accepts strings and numbers (numbers are converted in place, as luaL_checklstring).
String* check_string(State* L, int i);
String* opt_string(State* L, int i, String* def);  // def may be null
Table* check_table(State* L, int i);
void check_type(State* L, int i, int tag);
// luaL_checkoption: index of the matching name in a null-terminated list.
int check_option(State* L, int i, const char* def, const char* const names[]);

// ---- Pushing results -----------------------------------------------------------
inline void push(State* L, const Value& v) { *L->top++ = v; }
inline void push_nil(State* L) { push(L, Value::nil()); }
inline void push_number(State* L, double n) { push(L, Value::number(n)); }
inline void push_bool(State* L, bool b) { push(L, Value::boolean(b)); }
inline void push_string(State* L, std::string_view s) { push(L, Value::string(new_string(L, s))); }
inline void push_table(State* L, Table* t) { push(L, Value::table(t)); }
// Ensures n more slots above L->top (errors with "stack overflow" when impossible).
void check_stack(State* L, int n);

// ---- Errors ------------------------------------------------------------------
// Raises a string error prefixed with the position of the calling Lua function
// ("file:line: "), as luaL_error does.
[[noreturn]] void error(State* L, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
// Raises an arbitrary error value (the `error` builtin).
[[noreturn]] void throw_value(State* L, const Value& v);
// "file:line:" of the function at `level` (1 = caller of the running native), or "".
std::string where(State* L, int level);

// ---- Calling -------------------------------------------------------------------
// Calls the function at `func` with the nargs values after it (func..top-1 are the
// function and its arguments). Results replace them starting at `func`; with
// nresults == kMultRet all results are kept and L->top is set after the last one,
// else exactly nresults values (padded with nil) and L->top = func + nresults.
void vm_call(State* L, Value* func, int nresults);
// Like vm_call but catches errors: returns 0 on success; on error returns 2
// (runtime error) / 4 (memory error) / 5 (error in error handler), leaves the
// error value at `func` and sets L->top = func + 1. `handler` (xpcall's message
// handler) may be null.
int vm_pcall(State* L, Value* func, int nresults, const Value* handler);

// ---- Metamethod-aware operations (may call Lua, may raise) ---------------------
Value vm_gettable(State* L, const Value& t, const Value& key);
void vm_settable(State* L, const Value& t, const Value& key, const Value& val);
bool vm_equal(State* L, const Value& a, const Value& b);
bool vm_less_than(State* L, const Value& a, const Value& b);
// tostring() semantics: __tostring, else the default ("nil", "table: 0x...", numbers %.14g).
String* vm_tostring(State* L, const Value& v);
// Numeric conversion with Lua's string coercion.
bool to_number(const Value& v, double* out);
// String conversion with number coercion only (no metamethods); returns null otherwise.
String* to_string_coerce(State* L, const Value& v);
Table* get_metatable(State* L, const Value& v);
const Value* get_metamethod(State* L, const Value& v, TMS event);

// ---- Libraries --------------------------------------------------------------------
struct NativeReg {
  const char* name;
  NativeFn fn;
};
// Creates (or reuses) global table `libname` (null = globals) and fills it with
// the functions; registers it in package.loaded. Returns the table.
Table* register_lib(State* L, const char* libname, const NativeReg* fns);
void set_field(State* L, Table* t, const char* name, const Value& v);
Value get_field(State* L, Table* t, const char* name);  // raw

// Library openers (one per file under runtime/src/lib_*.cc).
void open_base(State* L);
void open_package(State* L);
void open_string(State* L);
void open_table(State* L);
void open_math(State* L);
void open_os(State* L);
void open_io(State* L);
void open_bit(State* L);
void open_all_libs(State* L);
void open_vmtest(State* L);  // only with --test-builtins

// ---- Compiler (compiler.cc / lexer.cc / parser.cc) -----------------------------------
// Compiles a chunk. On a syntax error returns null and sets *err to the message
// ("file.lua:LINE: message near 'token'"). `chunkname` follows Lua's convention
// ("@path", "=name" or the source text itself).
Proto* compile_chunk(State* L, const char* src, size_t len, const char* chunkname, std::string* err);
// As compile_chunk, reading the source piece by piece while parsing (load(f)).
Proto* compile_chunk_reader(State* L, const std::function<bool(std::string*)>& reader, const char* chunkname,
                            std::string* err);
// Loads a chunk as a function (a Lua closure with the globals as environment).
// Returns 0 and pushes the function, or pushes the error message and returns 3.
int load_buffer(State* L, const char* src, size_t len, const char* chunkname);
int load_file(State* L, const char* path);  // "cannot open x" errors as Lua 5.1

// ---- GC ------------------------------------------------------------------------------
void gc_collect(State* L);        // full collection now
void gc_step(State* L);           // collect if over threshold (a safe point)
inline void gc_check(State* L) {
  if (L->g->total_bytes >= L->g->gc_threshold) gc_step(L);
}
// Registers a new object. Inline for the common case (a non-userdata object,
// room in the all-objects array, no budget, under the heap limit).
void gc_link_slow(State* L, GCObject* o, uint8_t tag, size_t bytes);
inline void gc_link(State* L, GCObject* o, uint8_t tag, size_t bytes) {
  Global* g = L->g;
  if (__builtin_expect(L->hook_budget > 0 || tag == kTUserdata || g->all_count == g->all_cap ||
                           g->total_bytes + bytes > g->max_bytes,
                       0)) {
    gc_link_slow(L, o, tag, bytes);
    return;
  }
  o->tag = tag;
  o->marked = 0;
  g->all[g->all_count++] = o;
  g->total_bytes += bytes;
}

// ---- State --------------------------------------------------------------------------
State* state_new();
void state_close(State* L);

}  // namespace jitvm
