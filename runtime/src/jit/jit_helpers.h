// Runtime entry points called from compiled code. Each one catches Lua errors
// and turns them into a longjmp to the innermost jit_run, because C++
// exceptions cannot be unwound through JIT frames by the C++ runtime (they
// have no .eh_frame registered with it).
#pragma once

#include <cstdint>

#include "state.h"
#include "value.h"

namespace jitvm {
namespace jit {

extern "C" {
// Calls: returns the compiled entry of the callee (frame pushed) or null when the
// call already completed (native or interpreted callee).
void* jit_h_call(State* L, Value* func, int nresults);
// Tail calls: 0 = call completed, results at func (continue with RETURN);
// otherwise the callee's body entry (JitCallHeader::body_entry: the frame moved
// over the caller's, and the caller's native frame is kept for the callee).
void* jit_h_tailcall(State* L, Value* func);
int jit_h_return(State* L, Value* first, Value* base);
void jit_h_getglobal(State* L, Closure* cl, const Value* key, Value* dst);
void jit_h_setglobal(State* L, Closure* cl, const Value* key, const Value* val);
void jit_h_gettable(State* L, const Value* t, const Value* key, Value* dst);
void jit_h_settable(State* L, const Value* t, const Value* key, const Value* val);
void jit_h_self(State* L, Value* ra, const Value* rb, const Value* key);
void jit_h_arith(State* L, Value* dst, const Value* b, const Value* c, int op);
void jit_h_len(State* L, Value* dst, const Value* b);
void jit_h_concat(State* L, Value* base, int a, int b, int c);
int jit_h_eq(State* L, const Value* b, const Value* c);
int jit_h_lt(State* L, const Value* b, const Value* c);
int jit_h_le(State* L, const Value* b, const Value* c);
void jit_h_forprep(State* L, Value* ra);
int jit_h_tforloop(State* L, Value* ra, int nresults);
void jit_h_setlist(State* L, Value* ra, int n, int c);
void jit_h_close(State* L, Value* level);
void jit_h_closure(State* L, Closure* cl, Value* base, Value* ra, int index, const Instruction* pseudo);
void jit_h_vararg(State* L, Value* ra, int b);
void jit_h_newtable(State* L, Value* ra, int b, int c);
void jit_h_crash_segv(State* L);
}

}  // namespace jit
}  // namespace jitvm
