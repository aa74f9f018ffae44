// The interpreter: a register machine over Lua 5.1 bytecode, dispatched with
// computed goto. Lua-to-Lua calls do not recurse on the C++ stack (the frame
// array grows instead), so deep Lua recursion is bounded by kMaxCalls, not by
// the native stack, exactly as PUC Lua 5.1.
#include <cmath>
#include <cstdio>
#include <cstring>

#include "jit/jit.h"
#include "vm_internal.h"

namespace jitvm {

namespace {

constexpr int kMaxTagLoop = 100;  // MAXTAGLOOP: __index/__newindex chain limit

inline bool tonum(const Value* v, double* out) {
  if (v->tt == kTNumber) {
    *out = v->n;
    return true;
  }
  if (v->tt == kTString) return str2number(v->as_string()->data, v->as_string()->len, out);
  return false;
}

int l_strcmp(const String* ls, const String* rs) {
  const char* l = ls->data;
  size_t ll = ls->len;
  const char* r = rs->data;
  size_t lr = rs->len;
  for (;;) {
    int temp = strcoll(l, r);
    if (temp != 0) return temp;
    size_t len = strlen(l);  // both equal up to a '\0'
    if (len == lr) return (len == ll) ? 0 : 1;
    if (len == ll) return -1;
    len++;
    l += len;
    ll -= len;
    r += len;
    lr -= len;
  }
}

}  // namespace

// ---- Metamethods -----------------------------------------------------------------
Table* get_metatable(State* L, const Value& v) {
  switch (v.tt) {
    case kTTable: return v.as_table()->metatable;
    case kTUserdata: return v.as_userdata()->metatable;
    case kTString: return L->g->mt_string;
    default: return nullptr;
  }
}

static const Value* fast_tm(State* L, Table* mt, TMS event) {
  if (!mt) return nullptr;
  if (event <= TM_EQ && (mt->flags & (1u << event))) return nullptr;
  const Value* tm = table_get_str(mt, L->g->tm_names[event]);
  if (tm->is_nil()) {
    if (event <= TM_EQ) mt->flags |= static_cast<uint8_t>(1u << event);
    return nullptr;
  }
  return tm;
}

const Value* get_metamethod(State* L, const Value& v, TMS event) {
  return fast_tm(L, get_metatable(L, v), event);
}

// Calls tm(p1, p2) and returns its first result.
static Value call_tm_res(State* L, const Value& f, const Value& p1, const Value& p2) {
  Value* func = L->top;
  func[0] = f;
  func[1] = p1;
  func[2] = p2;
  L->top = func + 3;
  vm_call(L, func, 1);
  Value r = *func;
  L->top = func;
  return r;
}

static void call_tm(State* L, const Value& f, const Value& p1, const Value& p2, const Value& p3) {
  Value* func = L->top;
  func[0] = f;
  func[1] = p1;
  func[2] = p2;
  func[3] = p3;
  L->top = func + 4;
  vm_call(L, func, 0);
  L->top = func;
}

Value vm_gettable(State* L, const Value& t0, const Value& key) {
  Value t = t0;
  for (int loop = 0; loop < kMaxTagLoop; loop++) {
    const Value* tm;
    if (t.tt == kTTable) {
      Table* h = t.as_table();
      const Value* res = table_get(h, key);
      if (!res->is_nil() || (tm = fast_tm(L, h->metatable, TM_INDEX)) == nullptr) return *res;
    } else if ((tm = get_metamethod(L, t, TM_INDEX)) == nullptr) {
      type_error_op(L, loop == 0 ? &t0 : &t, "index");
    }
    if (tm->is_function()) return call_tm_res(L, *tm, t, key);
    t = *tm;
  }
  runerror(L, "loop in gettable");
}

void vm_settable(State* L, const Value& t0, const Value& key, const Value& val) {
  Value t = t0;
  for (int loop = 0; loop < kMaxTagLoop; loop++) {
    const Value* tm;
    if (t.tt == kTTable) {
      Table* h = t.as_table();
      const Value* old = table_get(h, key);
      if (!old->is_nil() || (tm = fast_tm(L, h->metatable, TM_NEWINDEX)) == nullptr) {
        table_set(L, h, key, val);
        return;
      }
    } else if ((tm = get_metamethod(L, t, TM_NEWINDEX)) == nullptr) {
      type_error_op(L, loop == 0 ? &t0 : &t, "index");
    }
    if (tm->is_function()) {
      call_tm(L, *tm, t, key, val);
      return;
    }
    t = *tm;
  }
  runerror(L, "loop in settable");
}

static bool call_bin_tm(State* L, const Value* p1, const Value* p2, Value* res, TMS event) {
  const Value* tm = get_metamethod(L, *p1, event);
  if (!tm || tm->is_nil()) tm = get_metamethod(L, *p2, event);
  if (!tm || tm->is_nil()) return false;
  *res = call_tm_res(L, *tm, *p1, *p2);
  return true;
}

static void arith(State* L, Value* ra, const Value* rb, const Value* rc, TMS op) {
  double b, c;
  if (tonum(rb, &b) && tonum(rc, &c)) {
    double r;
    switch (op) {
      case TM_ADD: r = b + c; break;
      case TM_SUB: r = b - c; break;
      case TM_MUL: r = b * c; break;
      case TM_DIV: r = b / c; break;
      case TM_MOD: r = b - floor(b / c) * c; break;
      case TM_POW: r = pow(b, c); break;
      case TM_UNM: r = -b; break;
      default: r = 0; break;
    }
    *ra = Value::number(r);
    return;
  }
  Value res;
  if (!call_bin_tm(L, rb, rc, &res, op)) arith_error(L, rb, rc);
  *ra = res;
}

static const Value* get_comp_tm(State* L, Table* mt1, Table* mt2, TMS event) {
  const Value* tm1 = fast_tm(L, mt1, event);
  if (!tm1) return nullptr;
  if (mt1 == mt2) return tm1;
  const Value* tm2 = fast_tm(L, mt2, event);
  if (!tm2) return nullptr;
  if (raw_equal(*tm1, *tm2)) return tm1;
  return nullptr;
}

bool vm_equal(State* L, const Value& a, const Value& b) {
  if (a.tt != b.tt) return false;
  const Value* tm;
  switch (a.tt) {
    case kTNil: return true;
    case kTNumber: return a.n == b.n;
    case kTBoolean: return a.b == b.b;
    case kTLightUserdata: return a.p == b.p;
    case kTUserdata:
      if (a.gc == b.gc) return true;
      tm = get_comp_tm(L, a.as_userdata()->metatable, b.as_userdata()->metatable, TM_EQ);
      break;
    case kTTable:
      if (a.gc == b.gc) return true;
      tm = get_comp_tm(L, a.as_table()->metatable, b.as_table()->metatable, TM_EQ);
      break;
    default: return a.gc == b.gc;
  }
  if (!tm) return false;
  return !call_tm_res(L, *tm, a, b).is_falsy();
}

static int call_order_tm(State* L, const Value* p1, const Value* p2, TMS event) {
  const Value* tm1 = get_metamethod(L, *p1, event);
  if (!tm1) return -1;
  const Value* tm2 = get_metamethod(L, *p2, event);
  if (!tm2 || !raw_equal(*tm1, *tm2)) return -1;
  return call_tm_res(L, *tm1, *p1, *p2).is_falsy() ? 0 : 1;
}

bool vm_less_than(State* L, const Value& l, const Value& r) {
  if (l.tt != r.tt) order_error(L, &l, &r);
  if (l.tt == kTNumber) return l.n < r.n;
  if (l.tt == kTString) return l_strcmp(l.as_string(), r.as_string()) < 0;
  int res = call_order_tm(L, &l, &r, TM_LT);
  if (res != -1) return res;
  order_error(L, &l, &r);
}

static bool less_equal(State* L, const Value& l, const Value& r) {
  if (l.tt != r.tt) order_error(L, &l, &r);
  if (l.tt == kTNumber) return l.n <= r.n;
  if (l.tt == kTString) return l_strcmp(l.as_string(), r.as_string()) <= 0;
  int res = call_order_tm(L, &l, &r, TM_LE);
  if (res != -1) return res;
  res = call_order_tm(L, &r, &l, TM_LT);
  if (res != -1) return !res;
  order_error(L, &l, &r);
}

bool to_number(const Value& v, double* out) { return tonum(&v, out); }

String* to_string_coerce(State* L, const Value& v) {
  if (v.tt == kTString) return v.as_string();
  if (v.tt == kTNumber) {
    char buf[32];
    int n = number2str(v.n, buf);
    return new_string(L, buf, static_cast<size_t>(n));
  }
  return nullptr;
}

// Concatenates `total` values ending at `last` (luaV_concat), leaving the result at last-total+1.
static void concat(State* L, int total, Value* last) {
  do {
    Value* top = last + 1;
    int n = 2;
    if (!(top[-2].tt == kTString || top[-2].tt == kTNumber) || !(top[-1].tt == kTString || top[-1].tt == kTNumber)) {
      Value res;
      if (!call_bin_tm(L, top - 2, top - 1, &res, TM_CONCAT)) concat_error(L, top - 2, top - 1);
      top[-2] = res;
    } else if (top[-1].tt == kTString && top[-1].as_string()->len == 0) {
      String* s = to_string_coerce(L, top[-2]);
      top[-2] = Value::string(s);
    } else {
      // Collect as many string-convertible values as possible.
      size_t tl = 0;
      for (n = 0; n < total; n++) {
        Value* v = top - n - 1;
        if (v->tt == kTNumber) *v = Value::string(to_string_coerce(L, *v));
        else if (v->tt != kTString) break;
        size_t l = v->as_string()->len;
        if (l >= (size_t{1} << 31) - tl) runerror(L, "string length overflow");
        tl += l;
      }
      std::string buf;
      buf.reserve(tl);
      for (int i = n; i > 0; i--) {
        String* s = top[-i].as_string();
        buf.append(s->data, s->len);
      }
      top[-n] = Value::string(new_string(L, buf.data(), buf.size()));
    }
    total -= n - 1;
    last -= n - 1;
  } while (total > 1);
}

static void obj_len(State* L, Value* ra, const Value* rb) {
  switch (rb->tt) {
    case kTTable: *ra = Value::number(static_cast<double>(table_length(rb->as_table()))); return;
    case kTString: *ra = Value::number(static_cast<double>(rb->as_string()->len)); return;
    default: {
      Value res;
      Value nil = Value::nil();
      if (!call_bin_tm(L, rb, &nil, &res, TM_LEN)) type_error_op(L, rb, "get length of");
      *ra = res;
    }
  }
}

void vm_arith(State* L, Value* ra, const Value* rb, const Value* rc, TMS op) { arith(L, ra, rb, rc, op); }
void vm_concat(State* L, int total, Value* last) { concat(L, total, last); }
void vm_objlen(State* L, Value* ra, const Value* rb) { obj_len(L, ra, rb); }
bool vm_less_equal(State* L, const Value& l, const Value& r) { return less_equal(L, l, r); }

void vm_forprep(State* L, Value* ra) {
  double v;
  if (!tonum(ra, &v)) runerror(L, "'for' initial value must be a number");
  ra[0] = Value::number(v);
  if (!tonum(ra + 1, &v)) runerror(L, "'for' limit must be a number");
  ra[1] = Value::number(v);
  if (!tonum(ra + 2, &v)) runerror(L, "'for' step must be a number");
  ra[2] = Value::number(v);
}

void move_tailcall_frame(State* L) {
  CallInfo* nci = L->ci;
  CallInfo* oci = nci - 1;
  Value* func = oci->func;
  Value* pfunc = nci->func;
  if (L->open_upval && L->open_upval->v >= oci->base) close_upvals(L, oci->base);
  L->base = oci->base = func + (nci->base - pfunc);
  int aux;
  for (aux = 0; pfunc + aux < L->top; aux++) func[aux] = pfunc[aux];
  oci->top = L->top = func + aux;
  oci->savedpc = nci->savedpc;
  oci->tailcalls++;
  oci->jit = nci->jit;
  oci->tier = nci->tier;
  L->ci--;
}

void check_c_stack(State* L) {
  char here;
  if (__builtin_expect(reinterpret_cast<uintptr_t>(&here) < L->c_stack_limit, 0)) runerror(L, "stack overflow");
}

// ---- Upvalues -----------------------------------------------------------------------
UpVal* find_upval(State* L, Value* level) {
  UpVal** pp = &L->open_upval;
  UpVal* p;
  while ((p = *pp) != nullptr && p->v >= level) {
    if (p->v == level) return p;
    pp = &p->next_open;
  }
  UpVal* uv = static_cast<UpVal*>(L->g->pool.alloc_zeroed(sizeof(UpVal)));
  gc_link(L, &uv->hdr, kTUpval, sizeof(UpVal));
  uv->v = level;
  uv->next_open = p;
  *pp = uv;
  return uv;
}

void close_upvals(State* L, Value* level) {
  UpVal* uv;
  while ((uv = L->open_upval) != nullptr && uv->v >= level) {
    uv->value = *uv->v;
    uv->v = &uv->value;
    L->open_upval = uv->next_open;
    uv->next_open = nullptr;
  }
}

// ---- Calls ----------------------------------------------------------------------------
static Value* try_func_tm(State* L, Value* func) {
  const Value* tm = get_metamethod(L, *func, TM_CALL);
  if (!tm || !tm->is_function()) type_error_op(L, func, "call");
  // Open a hole below the arguments for the metamethod.
  for (Value* p = L->top; p > func; p--) *p = p[-1];
  L->top++;
  *func = *tm;
  return func;
}

static CallInfo* next_ci(State* L) {
  if (__builtin_expect(L->ci + 1 >= L->end_ci, 0)) runerror(L, "stack overflow");
  return ++L->ci;
}

int precall(State* L, Value* func, int nresults) {
  if (!func->is_function()) func = try_func_tm(L, func);
  Closure* cl = func->as_closure();
  if (!cl->is_native) {
    Proto* p = cl->proto;
    Value* base;
    if (func + 1 + p->maxstacksize + kMinStackForNative >= L->stack_last) runerror(L, "stack overflow");
    if (!p->is_vararg) {
      base = func + 1;
      if (L->top > base + p->numparams) L->top = base + p->numparams;
    } else {
      int nargs = static_cast<int>(L->top - func) - 1;
      int nfix = p->numparams;
      for (; nargs < nfix; nargs++) *L->top++ = Value::nil();
      Table* htab = nullptr;
      if (p->is_vararg & kVarargNeedsArg) {
        // Lua 5.1 compatibility: a local `arg` table holding the varargs and `n`.
        int nvar = nargs - nfix;
        htab = table_new(L, nvar, 1);
        for (int i = 0; i < nvar; i++) table_set_int(L, htab, i + 1, L->top[-nvar + i]);
        table_set_str(L, htab, new_string(L, "n", 1), Value::number(nvar));
      }
      Value* fixed = L->top - nargs;
      base = L->top;
      for (int i = 0; i < nfix; i++) {
        *L->top++ = fixed[i];
        fixed[i] = Value::nil();
      }
      if (htab) *L->top++ = Value::table(htab);
    }
    if (__builtin_expect(L->hook_budget >= 0, 0)) {
      // Function entries pay too: a native may call a loop-free Lua function millions of times.
      if (L->hook_budget-- == 0) runerror(L, "instruction budget exhausted");
    }
    CallInfo* ci = next_ci(L);
    ci->func = func;
    L->base = ci->base = base;
    ci->top = base + p->maxstacksize;
    ci->savedpc = p->code.data();
    ci->tailcalls = 0;
    ci->nresults = nresults;
    for (Value* st = L->top; st < ci->top; st++) *st = Value::nil();
    L->top = ci->top;
    if (ci->top > L->stack_hwm) L->stack_hwm = ci->top;
    p->call_count++;
    ci->jit = nullptr;
    ci->tier = 0;
    if (jit::Jit* j = L->g->jit) {
      void* code = __atomic_load_n(&p->jit_code, __ATOMIC_ACQUIRE);
      if (!code) {
        if (__builtin_expect(j->has_requests(), 0)) j->ServiceRequests();
        if (p->call_count >= static_cast<uint32_t>(j->options().threshold) &&
            __atomic_load_n(&p->jit_state, __ATOMIC_RELAXED) == 0) {
          j->RequestCompile(p, /*wait=*/j->options().threshold == 0);
          code = __atomic_load_n(&p->jit_code, __ATOMIC_ACQUIRE);
        }
      }
      if (code) {
        ci->jit = code;
        ci->tier = 1;
        return kPrecallJit;
      }
    }
    return kPrecallLua;
  }
  CallInfo* ci = next_ci(L);
  ci->func = func;
  L->base = ci->base = func + 1;
  ci->top = L->top + kMinStackForNative;
  if (ci->top > L->stack_hwm) L->stack_hwm = ci->top;
  if (ci->top >= L->stack_last) runerror(L, "stack overflow");
  ci->nresults = nresults;
  ci->tailcalls = 0;
  ci->savedpc = nullptr;
  ci->jit = nullptr;
  ci->tier = 0;
  int n = cl->fn(L);
  poscall(L, L->top - n);
  return kPrecallNative;
}

bool poscall(State* L, Value* first_result) {
  CallInfo* ci = L->ci--;
  Value* res = ci->func;
  int wanted = ci->nresults;
  L->base = L->ci->base;
  int i;
  for (i = wanted; i != 0 && first_result < L->top; i--) Value::copy(res++, first_result++);
  while (i-- > 0) *res++ = Value::nil();
  L->top = res;
  return wanted != kMultRet;
}

void vm_call(State* L, Value* func, int nresults) {
  if (++L->n_ccalls >= kMaxCCalls) {
    if (L->n_ccalls == kMaxCCalls)
      runerror(L, "C stack overflow");
    else if (L->n_ccalls >= kMaxCCalls + (kMaxCCalls >> 3))
      throw LuaError{Value::nil()};  // error while handling stack error
  }
  check_c_stack(L);
  switch (precall(L, func, nresults)) {
    case kPrecallLua: execute(L, 1); break;
    case kPrecallJit: jit::jit_run(L, static_cast<jit::JitCode*>(L->ci->jit), nullptr); break;
    default: break;
  }
  L->n_ccalls--;
  gc_check(L);
}

// ---- The interpreter loop -------------------------------------------------------------
#define RA(i) (base + GETARG_A(i))
#define RB(i) (base + GETARG_B(i))
#define RC(i) (base + GETARG_C(i))
#define RKB(i) (ISK(GETARG_B(i)) ? k + INDEXK(GETARG_B(i)) : base + GETARG_B(i))
#define RKC(i) (ISK(GETARG_C(i)) ? k + INDEXK(GETARG_C(i)) : base + GETARG_C(i))
#define KBx(i) (k + GETARG_Bx(i))
#define SAVEPC() (ci->savedpc = pc)
#define PROTECT(x) \
  do {             \
    SAVEPC();      \
    x;             \
  } while (0)

void execute(State* L, int nexeccalls) {
  static const void* const kDispatch[kNumOpcodes] = {
      &&L_MOVE,   &&L_LOADK,   &&L_LOADBOOL, &&L_LOADNIL,  &&L_GETUPVAL, &&L_GETGLOBAL, &&L_GETTABLE,
      &&L_SETGLOBAL, &&L_SETUPVAL, &&L_SETTABLE, &&L_NEWTABLE, &&L_SELF, &&L_ADD, &&L_SUB,
      &&L_MUL,    &&L_DIV,     &&L_MOD,      &&L_POW,      &&L_UNM,      &&L_NOT,       &&L_LEN,
      &&L_CONCAT, &&L_JMP,     &&L_EQ,       &&L_LT,       &&L_LE,       &&L_TEST,      &&L_TESTSET,
      &&L_CALL,   &&L_TAILCALL, &&L_RETURN,  &&L_FORLOOP,  &&L_FORPREP,  &&L_TFORLOOP,  &&L_SETLIST,
      &&L_CLOSE,  &&L_CLOSURE, &&L_VARARG};
  CallInfo* ci;
  Closure* cl;
  Value* base;
  Value* k;
  const Instruction* pc;
  Instruction i;
  jit::Jit* const jit = L->g->jit;
  const uint32_t osr_threshold = jit ? static_cast<uint32_t>(jit->options().threshold) : 0;

reentry:
  ci = L->ci;
  cl = ci_func(ci);
  pc = ci->savedpc;
  base = L->base;
  k = cl->proto->k.data();

#define DISPATCH()                  \
  do {                              \
    i = *pc++;                      \
    goto* kDispatch[GET_OPCODE(i)]; \
  } while (0)
// The fuzzer's instruction budget is charged on back edges and calls only, which
// bounds run time without a check on every instruction.
// On-stack replacement at loop back edges: once the function has compiled
// code, continue this activation in it at the loop header. The frame needs no
// translation (compiled code keeps every Lua register in the stack slots).
#define OSR_POINT()                                                                   \
  do {                                                                                \
    if (__builtin_expect(jit != nullptr, 0) && ++cl->proto->backedges >= osr_threshold) { \
      SAVEPC();                                                                       \
      int osr_fixed = jit::osr_enter(L, ci, pc);                                      \
      if (osr_fixed >= 0) {                                                           \
        if (--nexeccalls == 0) return;                                                \
        if (osr_fixed) L->top = L->ci->top;                                           \
        goto reentry;                                                                 \
      }                                                                               \
    }                                                                                 \
  } while (0)
// The jump of a test (the JMP after EQ/LT/LE/TEST/TESTSET) is taken here; a
// backward one closes a repeat-until loop and pays the budget like any back edge.
#define COND_JUMP()                 \
  do {                              \
    int off_ = GETARG_sBx(*pc);     \
    pc += off_;                     \
    if (off_ < 0) BUDGET();         \
  } while (0)
#define BUDGET()                                         \
  do {                                                   \
    if (__builtin_expect(L->hook_budget >= 0, 0)) {      \
      if (L->hook_budget-- == 0) {                       \
        SAVEPC();                                        \
        runerror(L, "instruction budget exhausted");     \
      }                                                  \
    }                                                    \
  } while (0)

  DISPATCH();

L_MOVE:
  *RA(i) = *RB(i);
  DISPATCH();
L_LOADK:
  *RA(i) = *KBx(i);
  DISPATCH();
L_LOADBOOL:
  *RA(i) = Value::boolean(GETARG_B(i) != 0);
  if (GETARG_C(i)) pc++;
  DISPATCH();
L_LOADNIL: {
  Value* ra = RA(i);
  Value* rb = RB(i);
  do {
    *rb-- = Value::nil();
  } while (rb >= ra);
  DISPATCH();
}
L_GETUPVAL:
  *RA(i) = *cl->upvals[GETARG_B(i)]->v;
  DISPATCH();
L_GETGLOBAL: {
  const Value* key = KBx(i);
  Table* g = cl->env;
  const Value* res = table_get_str(g, key->as_string());
  if (!res->is_nil() || !g->metatable) {
    *RA(i) = *res;
  } else {
    SAVEPC();
    Value r = vm_gettable(L, Value::table(g), *key);
    *RA(i) = r;
  }
  DISPATCH();
}
L_GETTABLE: {
  Value* rb = RB(i);
  const Value* key = RKC(i);
  if (rb->tt == kTTable) {
    Table* t = rb->as_table();
    const Value* res;
    if (key->tt == kTNumber) {
      double d = key->n;
      // Range check before the conversion: casting NaN or huge doubles is undefined.
      if (d >= 1.0 && d <= static_cast<double>(t->asize) && static_cast<double>(static_cast<int64_t>(d)) == d)
        res = &t->array[static_cast<int64_t>(d) - 1];
      else
        res = table_get(t, *key);
    } else if (key->tt == kTString) {
      res = table_get_str(t, key->as_string());
    } else {
      res = table_get(t, *key);
    }
    if (!res->is_nil() || !t->metatable) {
      *RA(i) = *res;
      DISPATCH();
    }
  }
  SAVEPC();
  Value r = vm_gettable(L, *rb, *key);
  *RA(i) = r;
  DISPATCH();
}
L_SETGLOBAL: {
  Table* g = cl->env;
  const Value* key = KBx(i);
  SAVEPC();
  if (!g->metatable) {
    table_set(L, g, *key, *RA(i));
  } else {
    vm_settable(L, Value::table(g), *key, *RA(i));
  }
  DISPATCH();
}
L_SETUPVAL:
  *cl->upvals[GETARG_B(i)]->v = *RA(i);
  DISPATCH();
L_SETTABLE: {
  Value* ra = RA(i);
  const Value* key = RKB(i);
  const Value* val = RKC(i);
  if (ra->tt == kTTable) {
    Table* t = ra->as_table();
    if (key->tt == kTNumber) {
      double d = key->n;
      if (d >= 1.0 && d <= static_cast<double>(t->asize) && static_cast<double>(static_cast<int64_t>(d)) == d) {
        t->array[static_cast<int64_t>(d) - 1] = *val;
        DISPATCH();
      }
    }
    if (!t->metatable) {
      SAVEPC();
      table_set(L, t, *key, *val);
      DISPATCH();
    }
  }
  SAVEPC();
  vm_settable(L, *ra, *key, *val);
  DISPATCH();
}
L_NEWTABLE: {
  SAVEPC();
  Table* t = table_new(L, fb2int(GETARG_B(i)), fb2int(GETARG_C(i)));
  *RA(i) = Value::table(t);
  L->top = ci->top;
  gc_check(L);
  DISPATCH();
}
L_SELF: {
  Value* ra = RA(i);
  Value* rb = RB(i);
  const Value* key = RKC(i);
  ra[1] = *rb;
  if (rb->tt == kTTable) {
    Table* t = rb->as_table();
    const Value* res = table_get_str(t, key->as_string());
    if (!res->is_nil() || !t->metatable) {
      *ra = *res;
      DISPATCH();
    }
  }
  SAVEPC();
  Value r = vm_gettable(L, *rb, *key);
  *RA(i) = r;
  DISPATCH();
}

#define ARITH_OP(label, expr, tm)                                          \
  label : {                                                                \
    const Value* rb = RKB(i);                                              \
    const Value* rc = RKC(i);                                              \
    if (rb->tt == kTNumber && rc->tt == kTNumber) {                        \
      double nb = rb->n, nc = rc->n;                                       \
      *RA(i) = Value::number(expr);                                        \
    } else {                                                               \
      SAVEPC();                                                            \
      arith(L, RA(i), rb, rc, tm);                                         \
    }                                                                      \
    DISPATCH();                                                            \
  }
  ARITH_OP(L_ADD, nb + nc, TM_ADD)
  ARITH_OP(L_SUB, nb - nc, TM_SUB)
  ARITH_OP(L_MUL, nb * nc, TM_MUL)
  ARITH_OP(L_DIV, nb / nc, TM_DIV)
  ARITH_OP(L_MOD, nb - floor(nb / nc) * nc, TM_MOD)
  ARITH_OP(L_POW, pow(nb, nc), TM_POW)
#undef ARITH_OP

L_UNM: {
  Value* rb = RB(i);
  if (rb->tt == kTNumber) {
    *RA(i) = Value::number(-rb->n);
  } else {
    SAVEPC();
    arith(L, RA(i), rb, rb, TM_UNM);
  }
  DISPATCH();
}
L_NOT:
  *RA(i) = Value::boolean(RB(i)->is_falsy());
  DISPATCH();
L_LEN: {
  Value* rb = RB(i);
  if (rb->tt == kTTable) {
    *RA(i) = Value::number(static_cast<double>(table_length(rb->as_table())));
  } else if (rb->tt == kTString) {
    *RA(i) = Value::number(static_cast<double>(rb->as_string()->len));
  } else {
    SAVEPC();
    obj_len(L, RA(i), rb);
  }
  DISPATCH();
}
L_CONCAT: {
  int b = GETARG_B(i);
  int c = GETARG_C(i);
  SAVEPC();
  L->top = base + c + 1;  // metamethods called by concat work above the operands
  concat(L, c - b + 1, base + c);
  *RA(i) = base[b];
  L->top = ci->top;
  gc_check(L);
  DISPATCH();
}
L_JMP: {
  int off = GETARG_sBx(i);
  pc += off;
  if (off < 0) {
    BUDGET();
    OSR_POINT();
  }
  DISPATCH();
}
L_EQ: {
  const Value* rb = RKB(i);
  const Value* rc = RKC(i);
  bool eq;
  if (rb->tt != rc->tt) {
    eq = false;
  } else if (rb->tt == kTNumber) {
    eq = rb->n == rc->n;
  } else if (rb->tt == kTTable || rb->tt == kTUserdata) {
    SAVEPC();
    eq = vm_equal(L, *rb, *rc);
  } else {
    eq = raw_equal(*rb, *rc);
  }
  if (eq == (GETARG_A(i) != 0)) COND_JUMP();
  pc++;
  DISPATCH();
}
L_LT: {
  const Value* rb = RKB(i);
  const Value* rc = RKC(i);
  bool r;
  if (rb->tt == kTNumber && rc->tt == kTNumber) {
    r = rb->n < rc->n;
  } else {
    SAVEPC();
    r = vm_less_than(L, *rb, *rc);
  }
  if (r == (GETARG_A(i) != 0)) COND_JUMP();
  pc++;
  DISPATCH();
}
L_LE: {
  const Value* rb = RKB(i);
  const Value* rc = RKC(i);
  bool r;
  if (rb->tt == kTNumber && rc->tt == kTNumber) {
    r = rb->n <= rc->n;
  } else {
    SAVEPC();
    r = less_equal(L, *rb, *rc);
  }
  if (r == (GETARG_A(i) != 0)) COND_JUMP();
  pc++;
  DISPATCH();
}
L_TEST:
  if (RA(i)->is_falsy() != (GETARG_C(i) != 0)) COND_JUMP();
  pc++;
  DISPATCH();
L_TESTSET: {
  Value* rb = RB(i);
  if (rb->is_falsy() != (GETARG_C(i) != 0)) {
    *RA(i) = *rb;
    COND_JUMP();
  }
  pc++;
  DISPATCH();
}
L_CALL: {
  BUDGET();
  Value* ra = RA(i);
  int b = GETARG_B(i);
  int nresults = GETARG_C(i) - 1;
  if (b != 0) L->top = ra + b;
  SAVEPC();
  switch (precall(L, ra, nresults)) {
    case kPrecallLua:
      nexeccalls++;
      goto reentry;
    case kPrecallJit:
      jit::jit_run(L, static_cast<jit::JitCode*>(L->ci->jit), nullptr);
      break;
    default:
      break;
  }
  if (nresults >= 0) L->top = ci->top;
  base = L->base;
  gc_check(L);
  DISPATCH();
}
L_TAILCALL: {
  BUDGET();
  Value* ra = RA(i);
  int b = GETARG_B(i);
  if (b != 0) L->top = ra + b;
  SAVEPC();
  int pr = precall(L, ra, kMultRet);
  if (pr == kPrecallJit) {
    // Compiled callee: run it as a call; the RETURN that follows returns its results.
    jit::jit_run(L, static_cast<jit::JitCode*>(L->ci->jit), nullptr);
    base = L->base;
    DISPATCH();
  }
  if (pr == kPrecallLua) {
    move_tailcall_frame(L);
    goto reentry;
  }
  // A native ran: its results are at ra and the RETURN that always follows
  // a TAILCALL returns them.
  base = L->base;
  DISPATCH();
}
L_RETURN: {
  Value* ra = RA(i);
  int b = GETARG_B(i);
  if (b != 0) L->top = ra + b - 1;
  if (L->open_upval && L->open_upval->v >= base) close_upvals(L, base);
  SAVEPC();
  bool fixed = poscall(L, ra);
  if (--nexeccalls == 0) return;
  if (fixed) L->top = L->ci->top;
  goto reentry;
}
L_FORLOOP: {
  Value* ra = RA(i);
  double step = ra[2].n;
  double idx = ra[0].n + step;
  double limit = ra[1].n;
  if (step > 0 ? idx <= limit : limit <= idx) {
    BUDGET();
    pc += GETARG_sBx(i);
    ra[0].n = idx;
    ra[3] = Value::number(idx);
    OSR_POINT();
  }
  DISPATCH();
}
L_FORPREP: {
  Value* ra = RA(i);
  SAVEPC();
  vm_forprep(L, ra);
  ra[0].n -= ra[2].n;
  pc += GETARG_sBx(i);
  DISPATCH();
}
L_TFORLOOP: {
  BUDGET();
  Value* ra = RA(i);
  Value* cb = ra + 3;  // call base
  cb[2] = ra[2];
  cb[1] = ra[1];
  cb[0] = ra[0];
  L->top = cb + 3;
  SAVEPC();
  vm_call(L, cb, GETARG_C(i));
  L->top = ci->top;
  cb = RA(i) + 3;
  if (!cb->is_nil()) {
    cb[-1] = *cb;
    pc += GETARG_sBx(*pc);
    pc++;
    OSR_POINT();
    DISPATCH();
  }
  pc++;
  DISPATCH();
}
L_SETLIST: {
  Value* ra = RA(i);
  int n = GETARG_B(i);
  int c = GETARG_C(i);
  if (n == 0) {
    n = static_cast<int>(L->top - ra) - 1;
    L->top = ci->top;
  }
  if (c == 0) c = static_cast<int>(*pc++);
  Table* t = ra->as_table();
  int last = (c - 1) * kFieldsPerFlush + n;
  SAVEPC();
  if (last > static_cast<int>(t->asize)) table_resize_array(L, t, static_cast<uint32_t>(last));
  for (; n > 0; n--) t->array[last - 1] = ra[n], last--;
  DISPATCH();
}
L_CLOSE:
  close_upvals(L, RA(i));
  DISPATCH();
L_CLOSURE: {
  Proto* p = cl->proto->p[GETARG_Bx(i)];
  int nup = p->nups;
  SAVEPC();
  Closure* ncl = new_lua_closure(L, p, cl->env);
  for (int j = 0; j < nup; j++, pc++) {
    if (GET_OPCODE(*pc) == OP_GETUPVAL)
      ncl->upvals[j] = cl->upvals[GETARG_B(*pc)];
    else
      ncl->upvals[j] = find_upval(L, base + GETARG_B(*pc));
  }
  *RA(i) = Value::function(ncl);
  SAVEPC();
  L->top = ci->top;
  gc_check(L);
  DISPATCH();
}
L_VARARG: {
  Value* ra = RA(i);
  int b = GETARG_B(i) - 1;
  Proto* p = cl->proto;
  int n = static_cast<int>(base - ci->func) - p->numparams - 1;
  if (n < 0) n = 0;
  if (b == kMultRet) {
    if (ra + n + kMinStackForNative >= L->stack_last) {
      SAVEPC();
      runerror(L, "stack overflow");
    }
    b = n;
    L->top = ra + n;
    if (L->top > L->stack_hwm) L->stack_hwm = L->top;
  }
  for (int j = 0; j < b; j++) {
    if (j < n)
      ra[j] = base[-n + j];
    else
      ra[j] = Value::nil();
  }
  DISPATCH();
}
}

}  // namespace jitvm
