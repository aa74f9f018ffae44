// Interpreter internals shared by vm.cc, api.cc, debug.cc and lib_base.cc.
#pragma once

#include <string>

#include "api.h"
#include "opcodes.h"

namespace jitvm {

// Raises a runtime error with the position of the running Lua function (luaG_runerror).
[[noreturn]] void runerror(State* L, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
// "attempt to <op> <kind> '<name>' (a <type> value)".
[[noreturn]] void type_error_op(State* L, const Value* o, const char* op);
[[noreturn]] void concat_error(State* L, const Value* p1, const Value* p2);
[[noreturn]] void arith_error(State* L, const Value* p1, const Value* p2);
[[noreturn]] void order_error(State* L, const Value* p1, const Value* p2);

// Calls: pushes the callee's frame. Returns kPrecallNative when a native ran
// to completion, kPrecallLua when an interpreted Lua frame was pushed (the
// caller runs it with execute), kPrecallJit when the callee has compiled code
// (run it with jit::jit_run or a native call from JIT code).
constexpr int kPrecallNative = 0, kPrecallLua = 1, kPrecallJit = 2;
int precall(State* L, Value* func, int nresults);
// Moves results into place for the returning frame; returns false when the
// caller wanted a variable number of results.
bool poscall(State* L, Value* first_result);
void execute(State* L, int nexeccalls);

UpVal* find_upval(State* L, Value* level);
void close_upvals(State* L, Value* level);

// Current line of a Lua frame, or -1.
int current_line(State* L, CallInfo* ci);
// Name of the function running in `ci` as seen by its caller ("global", "local",
// "method", "field", "upvalue", "for iterator") or null.
const char* get_funcname(State* L, CallInfo* ci, const char** name);
const char* get_objname(State* L, CallInfo* ci, int stackpos, const char** name);

inline Closure* ci_func(CallInfo* ci) { return ci->func->as_closure(); }
inline bool ci_is_lua(CallInfo* ci) { return ci->func->is_function() && !ci->func->as_closure()->is_native; }

std::string traceback(State* L, int level);

// Slow paths shared by the interpreter and the JIT helpers.
void vm_arith(State* L, Value* ra, const Value* rb, const Value* rc, TMS op);
void vm_concat(State* L, int total, Value* last);
void vm_objlen(State* L, Value* ra, const Value* rb);
bool vm_less_equal(State* L, const Value& l, const Value& r);
void vm_forprep(State* L, Value* ra);
// Tail call: moves the frame just pushed (L->ci) down over its caller's.
void move_tailcall_frame(State* L);
// Raises "stack overflow" when the native stack is nearly exhausted.
void check_c_stack(State* L);

// The iterator functions of pairs (next) and ipairs (lib_base.cc), which
// compiled generic for loops run without a call frame.
int base_next(State* L);
int ipairs_aux(State* L);
// Names compiled code will carry: "fname@chunk:line" (func_names.cc).
void assign_function_names(Proto* main);
// Source blobs of loaded chunks for outside tools (chunk_sources.cc).
void register_chunk_source(State* L, Proto* main, const char* src, size_t len);
void unregister_chunk_source(State* L, Proto* main);

void strings_init(Global* g);
void strings_remove(Global* g, String* s);

}  // namespace jitvm
