// Debug information at run time: current lines, variable names for error
// messages (Lua 5.1's symbolic execution), and tracebacks.
#include <cstdarg>
#include <cstdio>

#include "vm_internal.h"

namespace jitvm {

static int current_pc(CallInfo* ci) {
  if (!ci_is_lua(ci) || !ci->savedpc) return -1;
  return static_cast<int>(ci->savedpc - ci_func(ci)->proto->code.data()) - 1;
}

int current_line(State* L, CallInfo* ci) {
  (void)L;
  int pc = current_pc(ci);
  if (pc < 0) return -1;
  const Proto* p = ci_func(ci)->proto;
  if (static_cast<size_t>(pc) >= p->lineinfo.size()) return -1;
  return p->lineinfo[pc];
}

static const char* local_name(const Proto* p, int local_number, int pc) {
  for (const LocVar& v : p->locvars) {
    if (v.startpc > pc) break;
    if (pc < v.endpc) {
      local_number--;
      if (local_number == 0) return v.name->data;
    }
  }
  return nullptr;
}

static bool test_a_mode(OpCode op) {
  switch (op) {
    case OP_SETGLOBAL: case OP_SETUPVAL: case OP_SETTABLE: case OP_JMP: case OP_EQ: case OP_LT:
    case OP_LE: case OP_TEST: case OP_RETURN: case OP_TFORLOOP: case OP_SETLIST: case OP_CLOSE:
      return false;
    default:
      return true;
  }
}

// The last instruction before `lastpc` that changed register `reg` (symbexec).
static Instruction symbexec(const Proto* p, int lastpc, int reg) {
  int last = static_cast<int>(p->code.size()) - 1;
  for (int pc = 0; pc < lastpc; pc++) {
    Instruction i = p->code[pc];
    OpCode op = GET_OPCODE(i);
    int a = GETARG_A(i);
    if (test_a_mode(op) && a == reg) last = pc;
    switch (op) {
      case OP_LOADNIL:
        if (a <= reg && reg <= GETARG_B(i)) last = pc;
        break;
      case OP_TFORLOOP:
        if (reg >= a + 2) last = pc;
        break;
      case OP_CALL:
      case OP_TAILCALL:
        if (reg >= a) last = pc;
        break;
      case OP_SELF:
        if (reg == a + 1) last = pc;
        break;
      case OP_JMP: {
        int dest = pc + 1 + GETARG_sBx(i);
        if (pc < dest && dest <= lastpc) pc += GETARG_sBx(i);
        break;
      }
      case OP_CLOSURE:
        pc += p->p[GETARG_Bx(i)]->nups;
        break;
      case OP_SETLIST:
        if (GETARG_C(i) == 0) pc++;
        break;
      default:
        break;
    }
  }
  return p->code[last];
}

static const char* kname(const Proto* p, int c) {
  if (ISK(c) && p->k[INDEXK(c)].is_string()) return p->k[INDEXK(c)].as_string()->data;
  return "?";
}

const char* get_objname(State* L, CallInfo* ci, int stackpos, const char** name) {
  if (!ci_is_lua(ci)) return nullptr;
  const Proto* p = ci_func(ci)->proto;
  int pc = current_pc(ci);
  *name = local_name(p, stackpos + 1, pc);
  if (*name) return "local";
  Instruction i = symbexec(p, pc, stackpos);
  switch (GET_OPCODE(i)) {
    case OP_GETGLOBAL:
      *name = p->k[GETARG_Bx(i)].as_string()->data;
      return "global";
    case OP_MOVE: {
      int a = GETARG_A(i), b = GETARG_B(i);
      if (b < a) return get_objname(L, ci, b, name);
      break;
    }
    case OP_GETTABLE:
      *name = kname(p, GETARG_C(i));
      return "field";
    case OP_GETUPVAL: {
      int u = GETARG_B(i);
      *name = static_cast<size_t>(u) < p->upvalues.size() ? p->upvalues[u]->data : "?";
      return "upvalue";
    }
    case OP_SELF:
      *name = kname(p, GETARG_C(i));
      return "method";
    default:
      break;
  }
  return nullptr;
}

const char* get_funcname(State* L, CallInfo* ci, const char** name) {
  if (ci == L->base_ci) return nullptr;
  if (ci->tailcalls > 0) return nullptr;  // the calling instruction is gone
  CallInfo* caller = ci - 1;
  if (!ci_is_lua(caller)) return nullptr;
  int pc = current_pc(caller);
  if (pc < 0) return nullptr;
  Instruction i = ci_func(caller)->proto->code[pc];
  OpCode op = GET_OPCODE(i);
  if (op == OP_CALL || op == OP_TAILCALL) return get_objname(L, caller, GETARG_A(i), name);
  if (op == OP_TFORLOOP) {
    *name = "for iterator";
    return "for iterator";
  }
  return nullptr;
}

static std::string vformat(const char* fmt, va_list ap) {
  char buf[512];
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  if (n < 0) {
    va_end(ap2);
    return std::string();
  }
  if (static_cast<size_t>(n) < sizeof buf) {
    va_end(ap2);
    return std::string(buf, static_cast<size_t>(n));
  }
  std::string s(static_cast<size_t>(n) + 1, '\0');
  vsnprintf(s.data(), s.size(), fmt, ap2);
  va_end(ap2);
  s.resize(static_cast<size_t>(n));
  return s;
}

void runerror(State* L, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::string msg = vformat(fmt, ap);
  va_end(ap);
  CallInfo* ci = L->ci;
  if (ci_is_lua(ci)) {
    msg = chunk_id(ci_func(ci)->proto->source) + ":" + std::to_string(current_line(L, ci)) + ": " + msg;
  }
  throw_value(L, Value::string(new_string(L, msg)));
}

void error(State* L, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::string msg = vformat(fmt, ap);
  va_end(ap);
  msg = where(L, 1) + msg;
  throw_value(L, Value::string(new_string(L, msg)));
}

std::string where(State* L, int level) {
  CallInfo* ci = L->ci - level;
  if (ci < L->base_ci) return "";
  // Skip levels lost to tail calls, as lua_getstack does.
  if (ci_is_lua(ci)) {
    int line = current_line(L, ci);
    if (line > 0) return chunk_id(ci_func(ci)->proto->source) + ":" + std::to_string(line) + ": ";
  }
  return "";
}

void throw_value(State* L, const Value& v) {
  L->error_slot = v;
  throw LuaError{v};
}

static bool in_stack(State* L, const Value* o) {
  return o >= L->base && o < L->ci->top && ci_is_lua(L->ci);
}

void type_error_op(State* L, const Value* o, const char* op) {
  const char* name = nullptr;
  const char* kind = nullptr;
  const char* t = type_name(o->tt);
  if (in_stack(L, o)) kind = get_objname(L, L->ci, static_cast<int>(o - L->base), &name);
  if (kind) runerror(L, "attempt to %s %s '%s' (a %s value)", op, kind, name, t);
  runerror(L, "attempt to %s a %s value", op, t);
}

void concat_error(State* L, const Value* p1, const Value* p2) {
  if (p1->is_string() || p1->is_number()) p1 = p2;
  type_error_op(L, p1, "concatenate");
}

void arith_error(State* L, const Value* p1, const Value* p2) {
  double tmp;
  if (!to_number(*p1, &tmp)) p2 = p1;
  type_error_op(L, p2, "perform arithmetic on");
}

void order_error(State* L, const Value* p1, const Value* p2) {
  const char* t1 = type_name(p1->tt);
  const char* t2 = type_name(p2->tt);
  if (t1[2] == t2[2]) runerror(L, "attempt to compare two %s values", t1);
  runerror(L, "attempt to compare %s with %s", t1, t2);
}

// As luaL_traceback in Lua 5.1's db_errorfb: 12 levels from the top, "...", the last 10.
std::string traceback(State* L, int level) {
  constexpr int kLevels1 = 12, kLevels2 = 10;
  std::string out = "stack traceback:";
  int depth = static_cast<int>(L->ci - L->base_ci);
  bool first_part = true;
  for (int lvl = level; lvl <= depth; lvl++) {
    if (lvl > kLevels1 && first_part) {
      if (depth - lvl > kLevels2) {
        out += "\n\t...";
        lvl = depth - kLevels2;
      }
      first_part = false;
    }
    CallInfo* ci = L->ci - lvl;
    out += "\n\t";
    if (ci == L->base_ci) {
      out += "[C]: ?";
      continue;
    }
    const char* name = nullptr;
    const char* kind = get_funcname(L, ci, &name);
    bool is_lua = ci_is_lua(ci);
    const Proto* p = is_lua ? ci_func(ci)->proto : nullptr;
    if (is_lua) {
      out += chunk_id(p->source) + ":";
      int line = current_line(L, ci);
      if (line > 0) out += std::to_string(line) + ":";
    } else {
      out += "[C]:";
    }
    if (kind) {
      out += " in function '" + std::string(name) + "'";
    } else if (is_lua && p->linedefined == 0) {
      out += " in main chunk";
    } else if (!is_lua) {
      out += " ?";
    } else {
      out += " in function <" + chunk_id(p->source) + ":" + std::to_string(p->linedefined) + ">";
    }
    if (ci->tailcalls > 0) out += "\n\t(tail call): ?";
  }
  return out;
}

}  // namespace jitvm
