#include "jit_helpers.h"

#include <csetjmp>
#include <new>

#include "jit.h"
#include "vm_internal.h"

namespace jitvm {
namespace jit {

namespace {

struct JitJmp {
  jmp_buf buf;
  JitJmp* prev;
};

// Leaves the JIT frames between here and the innermost jit_run. Only called
// after the C++ exception has been fully caught (no live C++ objects remain in
// the skipped frames: they are all generated code).
[[noreturn]] void unwind_to_jit_run(State* L) {
  JitJmp* j = static_cast<JitJmp*>(L->jit_jmp);
  longjmp(j->buf, 1);
}

}  // namespace

#define HELPER_BEGIN \
  bool failed_ = false; \
  try {
#define HELPER_END                                                        \
  }                                                                       \
  catch (const LuaError&) {                                               \
    failed_ = true;                                                       \
  }                                                                       \
  catch (const std::bad_alloc&) {                                         \
    L->error_slot = Value::string(new_fixed_string(L, "not enough memory")); \
    failed_ = true;                                                       \
  }                                                                       \
  if (failed_) unwind_to_jit_run(L);

int jit_run(State* L, JitCode* code, const void* osr_target) {
  JitJmp jb;
  jb.prev = static_cast<JitJmp*>(L->jit_jmp);
  // Restores the chain however this frame is left: return, the rethrow below,
  // or a foreign C++ exception unwinding through the compiled frames.
  struct Restore {
    State* L;
    JitJmp* prev;
    ~Restore() { L->jit_jmp = prev; }
  } restore{L, jb.prev};
  L->jit_jmp = &jb;
  if (setjmp(jb.buf) == 0) return code->entry(L, L->ci, osr_target);
  throw LuaError{L->error_slot};
}

int osr_enter(State* L, CallInfo* ci, const Instruction* pc) {
  Proto* p = ci_func(ci)->proto;
  p->backedges = 0;
  Jit* j = L->g->jit;
  void* code = __atomic_load_n(&p->jit_code, __ATOMIC_ACQUIRE);
  if (!code) {
    if (__atomic_load_n(&p->jit_state, __ATOMIC_RELAXED) != 0) return -1;
    j->RequestCompile(p, /*wait=*/j->options().threshold == 0);
    code = __atomic_load_n(&p->jit_code, __ATOMIC_ACQUIRE);
    if (!code) return -1;
  }
  JitCode* jc = static_cast<JitCode*>(code);
  size_t target = static_cast<size_t>(pc - p->code.data());
  if (target >= jc->pc_offsets.size() || jc->pc_offsets[target] == kNoOsrEntry) return -1;
  ci->jit = jc;
  ci->tier = 2;
  j->CountOsrEntry();
  return jit_run(L, jc, jc->rx + jc->pc_offsets[target]);
}

extern "C" {

void* jit_h_call(State* L, Value* func, int nresults) {
  // Fast path: a compiled, fixed-arity Lua callee. Pushes its frame the way
  // precall does, without the checks that cannot fail here. (The native
  // stack needs no check: a compiled frame costs 64 bytes of it.)
  if (func->tt == kTFunction) {
    Closure* cl = func->as_closure();
    if (!cl->is_native) {
      Proto* p = cl->proto;
      void* code = __atomic_load_n(&p->jit_code, __ATOMIC_ACQUIRE);
      Value* base = func + 1;
      if (code && !p->is_vararg && L->ci + 1 < L->end_ci && L->hook_budget < 0 &&
          base + p->maxstacksize + kMinStackForNative < L->stack_last) {
        if (L->top > base + p->numparams) L->top = base + p->numparams;
        CallInfo* ci = ++L->ci;
        ci->func = func;
        L->base = ci->base = base;
        ci->top = base + p->maxstacksize;
        ci->savedpc = p->code.data();
        ci->tailcalls = 0;
        ci->nresults = nresults;
        ci->jit = code;
        ci->tier = 1;
        for (Value* st = L->top; st < ci->top; st++) st->tt = kTNil;
        L->top = ci->top;
        if (ci->top > L->stack_hwm) L->stack_hwm = ci->top;
        p->call_count++;
        return reinterpret_cast<void*>(static_cast<JitCode*>(code)->entry);
      }
    }
  }
  HELPER_BEGIN
  check_c_stack(L);
  switch (precall(L, func, nresults)) {
    case kPrecallJit:
      return reinterpret_cast<void*>(static_cast<JitCode*>(L->ci->jit)->entry);
    case kPrecallLua:
      execute(L, 1);
      break;
    default:
      break;
  }
  gc_check(L);
  return nullptr;
  HELPER_END
  return nullptr;
}

void* jit_h_tailcall(State* L, Value* func) {
  // Fast path: a compiled, fixed-arity Lua callee replaces this frame in
  // place, with the result precall + move_tailcall_frame would give (the
  // function and its arguments moved down to this frame's slot, the rest of
  // the new frame nil, one more lost tail call), without pushing a CallInfo
  // only to pop it again.
  if (func->tt == kTFunction) {
    Closure* cl = func->as_closure();
    if (!cl->is_native) {
      Proto* p = cl->proto;
      void* code = __atomic_load_n(&p->jit_code, __ATOMIC_ACQUIRE);
      CallInfo* ci = L->ci;
      if (code && !p->is_vararg && L->hook_budget < 0 &&
          func + 1 + p->maxstacksize + kMinStackForNative < L->stack_last) {
        if (L->open_upval && L->open_upval->v >= ci->base) close_upvals(L, ci->base);
        Value* dst = ci->func;
        Value* args_end = L->top;
        int n = static_cast<int>(args_end - func);  // the function and its arguments
        for (int k = 0; k < n; k++) dst[k] = func[k];
        Value* base = dst + 1;
        Value* top = dst + n;
        if (top > base + p->numparams) top = base + p->numparams;
        L->base = ci->base = base;
        ci->top = base + p->maxstacksize;
        ci->savedpc = p->code.data();
        ci->tailcalls++;
        ci->jit = code;
        ci->tier = 1;
        for (Value* st = top; st < ci->top; st++) st->tt = kTNil;
        L->top = ci->top;
        if (ci->top > L->stack_hwm) L->stack_hwm = ci->top;
        p->call_count++;
        return const_cast<void*>(static_cast<JitCode*>(code)->call.body_entry);
      }
    }
  }
  HELPER_BEGIN
  check_c_stack(L);
  switch (precall(L, func, kMultRet)) {
    case kPrecallJit: {
      // Move the callee's frame down over ours, as the interpreter does.
      move_tailcall_frame(L);
      CallInfo* oci = L->ci;
      return const_cast<void*>(static_cast<JitCode*>(oci->jit)->call.body_entry);
    }
    case kPrecallLua:
      execute(L, 1);
      break;
    default:
      break;
  }
  return nullptr;
  HELPER_END
  return nullptr;
}

int jit_h_return(State* L, Value* first, Value* base) {
  if (L->open_upval && L->open_upval->v >= base) close_upvals(L, base);
  CallInfo* ci = L->ci;
  if (ci->nresults == 1) {
    // The common case (an expression call): one result, no loop.
    Value* res = ci->func;
    *res = first < L->top ? *first : Value::nil();
    L->ci = ci - 1;
    L->base = L->ci->base;
    L->top = res + 1;
    return 1;
  }
  return poscall(L, first) ? 1 : 0;
}

void jit_h_getglobal(State* L, Closure* cl, const Value* key, Value* dst) {
  HELPER_BEGIN
  Table* g = cl->env;
  const Value* res = table_get_str(g, key->as_string());
  if (!res->is_nil() || !g->metatable) {
    *dst = *res;
  } else {
    Value r = vm_gettable(L, Value::table(g), *key);
    *dst = r;
  }
  HELPER_END
}

void jit_h_setglobal(State* L, Closure* cl, const Value* key, const Value* val) {
  HELPER_BEGIN
  Table* g = cl->env;
  if (!g->metatable)
    table_set(L, g, *key, *val);
  else
    vm_settable(L, Value::table(g), *key, *val);
  HELPER_END
}

void jit_h_gettable(State* L, const Value* t, const Value* key, Value* dst) {
  HELPER_BEGIN
  Value r = vm_gettable(L, *t, *key);
  *dst = r;
  HELPER_END
}

void jit_h_settable(State* L, const Value* t, const Value* key, const Value* val) {
  HELPER_BEGIN
  if (t->is_table() && !t->as_table()->metatable)
    table_set(L, t->as_table(), *key, *val);
  else
    vm_settable(L, *t, *key, *val);
  HELPER_END
}

void jit_h_self(State* L, Value* ra, const Value* rb, const Value* key) {
  HELPER_BEGIN
  Value r = vm_gettable(L, *rb, *key);  // by reference: error messages name the stack slot
  *ra = r;
  HELPER_END
}

void jit_h_arith(State* L, Value* dst, const Value* b, const Value* c, int op) {
  HELPER_BEGIN
  vm_arith(L, dst, b, c, static_cast<TMS>(op + TM_ADD));
  HELPER_END
}

void jit_h_len(State* L, Value* dst, const Value* b) {
  HELPER_BEGIN
  vm_objlen(L, dst, b);
  HELPER_END
}

void jit_h_concat(State* L, Value* base, int a, int b, int c) {
  HELPER_BEGIN
  L->top = base + c + 1;
  vm_concat(L, c - b + 1, base + c);
  base[a] = base[b];
  L->top = L->ci->top;
  gc_check(L);
  HELPER_END
}

int jit_h_eq(State* L, const Value* b, const Value* c) {
  HELPER_BEGIN
  return vm_equal(L, *b, *c) ? 1 : 0;
  HELPER_END
  return 0;
}

int jit_h_lt(State* L, const Value* b, const Value* c) {
  HELPER_BEGIN
  return vm_less_than(L, *b, *c) ? 1 : 0;
  HELPER_END
  return 0;
}

int jit_h_le(State* L, const Value* b, const Value* c) {
  HELPER_BEGIN
  return vm_less_equal(L, *b, *c) ? 1 : 0;
  HELPER_END
  return 0;
}

void jit_h_forprep(State* L, Value* ra) {
  HELPER_BEGIN
  vm_forprep(L, ra);
  HELPER_END
}

int jit_h_tforloop(State* L, Value* ra, int nresults) {
  HELPER_BEGIN
  Value* cb = ra + 3;
  // pairs and ipairs on a table: what next / ipairs_aux would return,
  // without a call frame (their errors cannot happen on these operands,
  // except next's "invalid key", which table_next raises itself).
  if (ra[0].is_function() && ra[0].as_closure()->is_native && ra[1].is_table()) {
    NativeFn fn = ra[0].as_closure()->fn;
    Table* t = ra[1].as_table();
    if (fn == base_next) {
      Value key = ra[2], val;
      if (table_next(L, t, &key, &val)) {
        if (nresults >= 1) cb[0] = key;
        if (nresults >= 2) cb[1] = val;
        for (int k = 2; k < nresults; k++) cb[k] = Value::nil();
        ra[2] = key;
        return 1;
      }
      return 0;
    }
    if (fn == ipairs_aux && ra[2].is_number() && ra[2].n >= 0 && ra[2].n < 9007199254740992.0) {
      int64_t i = static_cast<int64_t>(ra[2].n) + 1;
      const Value* v = table_get_int(t, i);
      if (v->is_nil()) return 0;
      Value key = Value::number(static_cast<double>(i));
      if (nresults >= 1) cb[0] = key;
      if (nresults >= 2) cb[1] = *v;
      for (int k = 2; k < nresults; k++) cb[k] = Value::nil();
      ra[2] = key;
      return 1;
    }
  }
  cb[2] = ra[2];
  cb[1] = ra[1];
  cb[0] = ra[0];
  L->top = cb + 3;
  vm_call(L, cb, nresults);
  L->top = L->ci->top;
  if (!cb->is_nil()) {
    cb[-1] = *cb;
    return 1;
  }
  return 0;
  HELPER_END
  return 0;
}

void jit_h_setlist(State* L, Value* ra, int n, int c) {
  HELPER_BEGIN
  if (n == 0) {
    n = static_cast<int>(L->top - ra) - 1;
    L->top = L->ci->top;
  }
  Table* t = ra->as_table();
  int last = (c - 1) * kFieldsPerFlush + n;
  if (last > static_cast<int>(t->asize)) table_resize_array(L, t, static_cast<uint32_t>(last));
  for (; n > 0; n--) t->array[last - 1] = ra[n], last--;
  HELPER_END
}

void jit_h_close(State* L, Value* level) { close_upvals(L, level); }

void jit_h_closure(State* L, Closure* cl, Value* base, Value* ra, int index, const Instruction* pseudo) {
  HELPER_BEGIN
  Proto* p = cl->proto->p[static_cast<size_t>(index)];
  Closure* ncl = new_lua_closure(L, p, cl->env);
  for (int j = 0; j < p->nups; j++) {
    Instruction ins = pseudo[j];
    if (GET_OPCODE(ins) == OP_GETUPVAL)
      ncl->upvals[j] = cl->upvals[GETARG_B(ins)];
    else
      ncl->upvals[j] = find_upval(L, base + GETARG_B(ins));
  }
  *ra = Value::function(ncl);
  L->top = L->ci->top;
  gc_check(L);
  HELPER_END
}

void jit_h_vararg(State* L, Value* ra, int bplus1) {
  HELPER_BEGIN
  CallInfo* ci = L->ci;
  Value* base = ci->base;
  int b = bplus1 - 1;
  Proto* p = ci_func(ci)->proto;
  int n = static_cast<int>(base - ci->func) - p->numparams - 1;
  if (n < 0) n = 0;
  if (b == kMultRet) {
    if (ra + n + kMinStackForNative >= L->stack_last) runerror(L, "stack overflow");
    b = n;
    L->top = ra + n;
    if (L->top > L->stack_hwm) L->stack_hwm = L->top;
  }
  for (int j = 0; j < b; j++) ra[j] = j < n ? base[-n + j] : Value::nil();
  HELPER_END
}

void jit_h_newtable(State* L, Value* ra, int b, int c) {
  HELPER_BEGIN
  Table* t = table_new(L, fb2int(b), fb2int(c));
  *ra = Value::table(t);
  L->top = L->ci->top;
  gc_check(L);
  HELPER_END
}

}  // extern "C"

}  // namespace jit
}  // namespace jitvm
