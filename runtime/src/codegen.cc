#include "codegen.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

#include "lexer.h"

namespace jitvm {

namespace {

// Per opcode: test flag (bit 7), B mode (bits 4-5), C mode (bits 2-3), as lopcodes.c.
constexpr uint8_t arg_modes(int t, OpArgMode b, OpArgMode c) {
  return static_cast<uint8_t>((t << 7) | (b << 4) | (c << 2));
}
const uint8_t kArgModes[kNumOpcodes] = {
    arg_modes(0, OpArgR, OpArgN),  // MOVE
    arg_modes(0, OpArgK, OpArgN),  // LOADK
    arg_modes(0, OpArgU, OpArgU),  // LOADBOOL
    arg_modes(0, OpArgR, OpArgN),  // LOADNIL
    arg_modes(0, OpArgU, OpArgN),  // GETUPVAL
    arg_modes(0, OpArgK, OpArgN),  // GETGLOBAL
    arg_modes(0, OpArgR, OpArgK),  // GETTABLE
    arg_modes(0, OpArgK, OpArgN),  // SETGLOBAL
    arg_modes(0, OpArgU, OpArgN),  // SETUPVAL
    arg_modes(0, OpArgK, OpArgK),  // SETTABLE
    arg_modes(0, OpArgU, OpArgU),  // NEWTABLE
    arg_modes(0, OpArgR, OpArgK),  // SELF
    arg_modes(0, OpArgK, OpArgK),  // ADD
    arg_modes(0, OpArgK, OpArgK),  // SUB
    arg_modes(0, OpArgK, OpArgK),  // MUL
    arg_modes(0, OpArgK, OpArgK),  // DIV
    arg_modes(0, OpArgK, OpArgK),  // MOD
    arg_modes(0, OpArgK, OpArgK),  // POW
    arg_modes(0, OpArgR, OpArgN),  // UNM
    arg_modes(0, OpArgR, OpArgN),  // NOT
    arg_modes(0, OpArgR, OpArgN),  // LEN
    arg_modes(0, OpArgR, OpArgR),  // CONCAT
    arg_modes(0, OpArgR, OpArgN),  // JMP
    arg_modes(1, OpArgK, OpArgK),  // EQ
    arg_modes(1, OpArgK, OpArgK),  // LT
    arg_modes(1, OpArgK, OpArgK),  // LE
    arg_modes(1, OpArgR, OpArgU),  // TEST
    arg_modes(1, OpArgR, OpArgU),  // TESTSET
    arg_modes(0, OpArgU, OpArgU),  // CALL
    arg_modes(0, OpArgU, OpArgU),  // TAILCALL
    arg_modes(0, OpArgU, OpArgN),  // RETURN
    arg_modes(0, OpArgR, OpArgN),  // FORLOOP
    arg_modes(0, OpArgR, OpArgN),  // FORPREP
    arg_modes(1, OpArgN, OpArgU),  // TFORLOOP
    arg_modes(0, OpArgU, OpArgU),  // SETLIST
    arg_modes(0, OpArgN, OpArgN),  // CLOSE
    arg_modes(0, OpArgU, OpArgN),  // CLOSURE
    arg_modes(0, OpArgU, OpArgN),  // VARARG
};

bool is_numeral(const ExpDesc* e) { return e->k == VKNUM && e->t == kNoJump && e->f == kNoJump; }

// Folds numeric constant arithmetic like Lua 5.1: never a division or modulo
// by zero, never a NaN result (so the runtime raises or computes those).
bool const_folding(OpCode op, ExpDesc* e1, const ExpDesc* e2) {
  if (!is_numeral(e1) || !is_numeral(e2)) return false;
  double v1 = e1->nval, v2 = e2->nval, r;
  switch (op) {
    case OP_ADD: r = v1 + v2; break;
    case OP_SUB: r = v1 - v2; break;
    case OP_MUL: r = v1 * v2; break;
    case OP_DIV:
      if (v2 == 0) return false;
      r = v1 / v2;
      break;
    case OP_MOD:
      if (v2 == 0) return false;
      r = v1 - std::floor(v1 / v2) * v2;
      break;
    case OP_POW: r = std::pow(v1, v2); break;
    case OP_UNM: r = -v1; break;
    default: return false;  // OP_LEN is never folded
  }
  if (std::isnan(r)) return false;
  e1->nval = r;
  return true;
}

enum KKind { kKNumber, kKString, kKBoolean, kKNil };

}  // namespace

OpArgMode op_b_mode(OpCode op) { return static_cast<OpArgMode>((kArgModes[op] >> 4) & 3); }
OpArgMode op_c_mode(OpCode op) { return static_cast<OpArgMode>((kArgModes[op] >> 2) & 3); }
bool op_is_test(OpCode op) { return (kArgModes[op] & 0x80) != 0; }

// ---- emission ------------------------------------------------------------------

int FuncState::code(Instruction i, int line) {
  discharge_jpc();  // the pending jumps target this new instruction
  f->code.push_back(i);
  f->lineinfo.push_back(line);
  return pc() - 1;
}

int FuncState::code_abc(OpCode o, int a, int b, int c) { return code(CREATE_ABC(o, a, b, c), ls->lastline); }

int FuncState::code_abx(OpCode o, int a, int bx) { return code(CREATE_ABx(o, a, bx), ls->lastline); }

void FuncState::code_nil(int from, int n) {
  if (pc() > lasttarget) {  // no jump lands here, so the previous instruction may be reused
    if (pc() == 0) {
      if (from >= nactvar) return;  // fresh registers of a new function are nil already
    } else {
      Instruction& previous = f->code[pc() - 1];
      if (GET_OPCODE(previous) == OP_LOADNIL) {
        int pfrom = GETARG_A(previous);
        int pto = GETARG_B(previous);
        if (pfrom <= from && from <= pto + 1) {
          if (from + n - 1 > pto) SETARG_B(previous, from + n - 1);
          return;
        }
      }
    }
  }
  code_abc(OP_LOADNIL, from, from + n - 1, 0);
}

void FuncState::set_list(int base, int nelems, int tostore) {
  int c = (nelems - 1) / kFieldsPerFlush + 1;
  int b = tostore == kMultRet ? 0 : tostore;
  if (c <= kMaxArgC) {
    code_abc(OP_SETLIST, base, b, c);
  } else {
    // The block number does not fit in C: it goes in the next "instruction".
    code_abc(OP_SETLIST, base, b, 0);
    code(static_cast<Instruction>(c), ls->lastline);
  }
  freereg = base + 1;
}

// ---- jumps -----------------------------------------------------------------------

int FuncState::jump() {
  int pending = jpc;  // jumps to here must follow the new jump instead
  jpc = kNoJump;
  int j = code_asbx(OP_JMP, 0, kNoJump);
  concat(&j, pending);
  return j;
}

int FuncState::cond_jump(OpCode op, int a, int b, int c) {
  code_abc(op, a, b, c);
  return jump();
}

void FuncState::fix_jump(int pc, int dest) {
  int offset = dest - (pc + 1);
  if (std::abs(offset) > kMaxArgSBx) ls->syntax_error("control structure too long");
  SETARG_sBx(f->code[pc], offset);
}

int FuncState::get_label() {
  lasttarget = pc();
  return pc();
}

int FuncState::get_jump(int pc) {
  int offset = GETARG_sBx(f->code[pc]);
  return offset == kNoJump ? kNoJump : (pc + 1) + offset;
}

Instruction* FuncState::get_jump_control(int pc) {
  Instruction* pi = &f->code[pc];
  if (pc >= 1 && op_is_test(GET_OPCODE(*(pi - 1)))) return pi - 1;
  return pi;
}

// True when some jump in the list does not produce a value (not a TESTSET).
bool FuncState::need_value(int list) {
  for (; list != kNoJump; list = get_jump(list)) {
    if (GET_OPCODE(*get_jump_control(list)) != OP_TESTSET) return true;
  }
  return false;
}

bool FuncState::patch_test_reg(int node, int reg) {
  Instruction* i = get_jump_control(node);
  if (GET_OPCODE(*i) != OP_TESTSET) return false;
  if (reg != kNoReg && reg != GETARG_B(*i))
    SETARG_A(*i, reg);
  else  // no register wanted, or the value is there already: a plain test
    *i = CREATE_ABC(OP_TEST, GETARG_B(*i), 0, GETARG_C(*i));
  return true;
}

void FuncState::remove_values(int list) {
  for (; list != kNoJump; list = get_jump(list)) patch_test_reg(list, kNoReg);
}

void FuncState::patch_list_aux(int list, int vtarget, int reg, int dtarget) {
  while (list != kNoJump) {
    int next = get_jump(list);
    if (patch_test_reg(list, reg))
      fix_jump(list, vtarget);
    else
      fix_jump(list, dtarget);
    list = next;
  }
}

void FuncState::discharge_jpc() {
  patch_list_aux(jpc, pc(), kNoReg, pc());
  jpc = kNoJump;
}

void FuncState::patch_list(int list, int target) {
  if (target == pc()) {
    patch_to_here(list);
  } else {
    patch_list_aux(list, target, kNoReg, target);
  }
}

void FuncState::patch_to_here(int list) {
  get_label();
  concat(&jpc, list);
}

void FuncState::concat(int* l1, int l2) {
  if (l2 == kNoJump) return;
  if (*l1 == kNoJump) {
    *l1 = l2;
    return;
  }
  int list = *l1;
  int next;
  while ((next = get_jump(list)) != kNoJump) list = next;
  fix_jump(list, l2);
}

// ---- registers -------------------------------------------------------------------

void FuncState::check_stack(int n) {
  int newstack = freereg + n;
  if (newstack > f->maxstacksize) {
    if (newstack >= kMaxStack) ls->syntax_error("function or expression too complex");
    f->maxstacksize = static_cast<uint8_t>(newstack);
  }
}

void FuncState::reserve_regs(int n) {
  check_stack(n);
  freereg += n;
}

void FuncState::free_reg(int reg) {
  if (!ISK(reg) && reg >= nactvar) freereg--;
}

void FuncState::free_exp(ExpDesc* e) {
  if (e->k == VNONRELOC) free_reg(e->info);
}

// ---- constants -------------------------------------------------------------------

int FuncState::add_k(int kind, uint64_t bits, const Value& v) {
  auto key = std::make_pair(kind, bits);
  auto it = kcache_.find(key);
  if (it != kcache_.end()) return it->second;
  int idx = static_cast<int>(f->k.size());
  if (idx >= kMaxArgBx) ls->syntax_error("constant table overflow");
  f->k.push_back(v);
  kcache_.emplace(key, idx);
  return idx;
}

int FuncState::string_k(String* s) {
  return add_k(kKString, reinterpret_cast<uintptr_t>(s), Value::string(s));
}

int FuncState::number_k(double r) {
  // Table keys compare numerically, so 0 and -0 share one slot (the first one stored).
  double key = r == 0 ? 0.0 : r;
  uint64_t bits;
  std::memcpy(&bits, &key, sizeof bits);
  return add_k(kKNumber, bits, Value::number(r));
}

int FuncState::bool_k(bool b) { return add_k(kKBoolean, b ? 1 : 0, Value::boolean(b)); }

int FuncState::nil_k() { return add_k(kKNil, 0, Value::nil()); }

// ---- expressions -----------------------------------------------------------------

void FuncState::set_returns(ExpDesc* e, int nresults) {
  if (e->k == VCALL) {
    SETARG_C(code_of(*e), nresults + 1);
  } else if (e->k == VVARARG) {
    SETARG_B(code_of(*e), nresults + 1);
    SETARG_A(code_of(*e), freereg);
    reserve_regs(1);
  }
}

void FuncState::set_one_ret(ExpDesc* e) {
  if (e->k == VCALL) {
    e->k = VNONRELOC;
    e->info = GETARG_A(code_of(*e));
  } else if (e->k == VVARARG) {
    SETARG_B(code_of(*e), 2);
    e->k = VRELOCABLE;
  }
}

void FuncState::discharge_vars(ExpDesc* e) {
  switch (e->k) {
    case VLOCAL:
      e->k = VNONRELOC;
      break;
    case VUPVAL:
      e->info = code_abc(OP_GETUPVAL, 0, e->info, 0);
      e->k = VRELOCABLE;
      break;
    case VGLOBAL:
      e->info = code_abx(OP_GETGLOBAL, 0, e->info);
      e->k = VRELOCABLE;
      break;
    case VINDEXED:
      free_reg(e->aux);
      free_reg(e->info);
      e->info = code_abc(OP_GETTABLE, 0, e->info, e->aux);
      e->k = VRELOCABLE;
      break;
    case VVARARG:
    case VCALL:
      set_one_ret(e);
      break;
    default:
      break;
  }
}

int FuncState::code_label(int a, int b, int jump) {
  get_label();  // these instructions are jump targets
  return code_abc(OP_LOADBOOL, a, b, jump);
}

void FuncState::discharge2reg(ExpDesc* e, int reg) {
  discharge_vars(e);
  switch (e->k) {
    case VNIL:
      code_nil(reg, 1);
      break;
    case VFALSE:
    case VTRUE:
      code_abc(OP_LOADBOOL, reg, e->k == VTRUE, 0);
      break;
    case VK:
      code_abx(OP_LOADK, reg, e->info);
      break;
    case VKNUM:
      code_abx(OP_LOADK, reg, number_k(e->nval));
      break;
    case VRELOCABLE:
      SETARG_A(code_of(*e), reg);
      break;
    case VNONRELOC:
      if (reg != e->info) code_abc(OP_MOVE, reg, e->info, 0);
      break;
    default:
      return;  // VVOID or VJMP: nothing to load
  }
  e->info = reg;
  e->k = VNONRELOC;
}

void FuncState::discharge2anyreg(ExpDesc* e) {
  if (e->k != VNONRELOC) {
    reserve_regs(1);
    discharge2reg(e, freereg - 1);
  }
}

void FuncState::exp2reg(ExpDesc* e, int reg) {
  discharge2reg(e, reg);
  if (e->k == VJMP) concat(&e->t, e->info);
  if (e->has_jumps()) {
    int p_f = kNoJump;  // LOADBOOL false, if needed
    int p_t = kNoJump;  // LOADBOOL true, if needed
    if (need_value(e->t) || need_value(e->f)) {
      int fj = e->k == VJMP ? kNoJump : jump();
      p_f = code_label(reg, 0, 1);
      p_t = code_label(reg, 1, 0);
      patch_to_here(fj);
    }
    int final = get_label();
    patch_list_aux(e->f, final, reg, p_f);
    patch_list_aux(e->t, final, reg, p_t);
  }
  e->f = e->t = kNoJump;
  e->info = reg;
  e->k = VNONRELOC;
}

void FuncState::exp2nextreg(ExpDesc* e) {
  discharge_vars(e);
  free_exp(e);
  reserve_regs(1);
  exp2reg(e, freereg - 1);
}

int FuncState::exp2anyreg(ExpDesc* e) {
  discharge_vars(e);
  if (e->k == VNONRELOC) {
    if (!e->has_jumps()) return e->info;
    if (e->info >= nactvar) {  // a temporary: the jumps may store into it
      exp2reg(e, e->info);
      return e->info;
    }
  }
  exp2nextreg(e);
  return e->info;
}

void FuncState::exp2val(ExpDesc* e) {
  if (e->has_jumps())
    exp2anyreg(e);
  else
    discharge_vars(e);
}

int FuncState::exp2rk(ExpDesc* e) {
  exp2val(e);
  switch (e->k) {
    case VKNUM:
    case VTRUE:
    case VFALSE:
    case VNIL:
      if (static_cast<int>(f->k.size()) <= kMaxIndexRK) {
        e->info = e->k == VNIL ? nil_k() : e->k == VKNUM ? number_k(e->nval) : bool_k(e->k == VTRUE);
        e->k = VK;
        return RKASK(e->info);
      }
      break;
    case VK:
      if (e->info <= kMaxIndexRK) return RKASK(e->info);
      break;
    default:
      break;
  }
  return exp2anyreg(e);
}

void FuncState::store_var(ExpDesc* var, ExpDesc* ex) {
  switch (var->k) {
    case VLOCAL:
      free_exp(ex);
      exp2reg(ex, var->info);
      return;
    case VUPVAL: {
      int e = exp2anyreg(ex);
      code_abc(OP_SETUPVAL, e, var->info, 0);
      break;
    }
    case VGLOBAL: {
      int e = exp2anyreg(ex);
      code_abx(OP_SETGLOBAL, e, var->info);
      break;
    }
    case VINDEXED: {
      int e = exp2rk(ex);
      code_abc(OP_SETTABLE, var->info, var->aux, e);
      break;
    }
    default:
      break;
  }
  free_exp(ex);
}

void FuncState::self(ExpDesc* e, ExpDesc* key) {
  exp2anyreg(e);
  free_exp(e);
  int func = freereg;
  reserve_regs(2);
  code_abc(OP_SELF, func, e->info, exp2rk(key));
  free_exp(key);
  e->info = func;
  e->k = VNONRELOC;
}

void FuncState::indexed(ExpDesc* t, ExpDesc* k) {
  t->aux = exp2rk(k);
  t->k = VINDEXED;
}

void FuncState::invert_jump(ExpDesc* e) {
  Instruction* pc = get_jump_control(e->info);
  SETARG_A(*pc, !GETARG_A(*pc));
}

int FuncState::jump_on_cond(ExpDesc* e, bool cond) {
  if (e->k == VRELOCABLE) {
    Instruction ie = code_of(*e);
    if (GET_OPCODE(ie) == OP_NOT) {
      // Test the operand of the NOT with the opposite condition instead.
      f->code.pop_back();
      f->lineinfo.pop_back();
      return cond_jump(OP_TEST, GETARG_B(ie), 0, !cond);
    }
  }
  discharge2anyreg(e);
  free_exp(e);
  return cond_jump(OP_TESTSET, kNoReg, e->info, cond);
}

// Lua 5.1.5 has no shortcut for constant false here (nor for true in
// go_if_false): `if false` loads the constant and tests it, and so do we.
void FuncState::go_if_true(ExpDesc* e) {
  int pc;  // the jump taken when false
  discharge_vars(e);
  switch (e->k) {
    case VK:
    case VKNUM:
    case VTRUE:
      pc = kNoJump;  // always true
      break;
    case VJMP:
      invert_jump(e);
      pc = e->info;
      break;
    default:
      pc = jump_on_cond(e, false);
      break;
  }
  concat(&e->f, pc);
  patch_to_here(e->t);
  e->t = kNoJump;
}

void FuncState::go_if_false(ExpDesc* e) {
  int pc;  // the jump taken when true
  discharge_vars(e);
  switch (e->k) {
    case VNIL:
    case VFALSE:
      pc = kNoJump;  // always false
      break;
    case VJMP:
      pc = e->info;
      break;
    default:
      pc = jump_on_cond(e, true);
      break;
  }
  concat(&e->t, pc);
  patch_to_here(e->f);
  e->f = kNoJump;
}

void FuncState::code_not(ExpDesc* e) {
  discharge_vars(e);
  switch (e->k) {
    case VNIL:
    case VFALSE:
      e->k = VTRUE;
      break;
    case VK:
    case VKNUM:
    case VTRUE:
      e->k = VFALSE;
      break;
    case VJMP:
      invert_jump(e);
      break;
    case VRELOCABLE:
    case VNONRELOC:
      discharge2anyreg(e);
      free_exp(e);
      e->info = code_abc(OP_NOT, 0, e->info, 0);
      e->k = VRELOCABLE;
      break;
    default:
      break;
  }
  std::swap(e->f, e->t);
  remove_values(e->f);
  remove_values(e->t);
}

void FuncState::code_arith(OpCode op, ExpDesc* e1, ExpDesc* e2) {
  if (const_folding(op, e1, e2)) return;
  int o2 = (op != OP_UNM && op != OP_LEN) ? exp2rk(e2) : 0;
  int o1 = exp2rk(e1);
  // Free in stack order: the higher register first.
  if (o1 > o2) {
    free_exp(e1);
    free_exp(e2);
  } else {
    free_exp(e2);
    free_exp(e1);
  }
  e1->info = code_abc(op, 0, o1, o2);
  e1->k = VRELOCABLE;
}

void FuncState::code_comp(OpCode op, int cond, ExpDesc* e1, ExpDesc* e2) {
  int o1 = exp2rk(e1);
  int o2 = exp2rk(e2);
  free_exp(e2);
  free_exp(e1);
  if (cond == 0 && op != OP_EQ) {
    std::swap(o1, o2);  // a > b is b < a, a >= b is b <= a
    cond = 1;
  }
  e1->info = cond_jump(op, cond, o1, o2);
  e1->k = VJMP;
}

void FuncState::prefix(UnOpr op, ExpDesc* e) {
  ExpDesc e2(VKNUM, 0);
  e2.nval = 0;
  switch (op) {
    case OPR_MINUS:
      if (!is_numeral(e)) exp2anyreg(e);
      code_arith(OP_UNM, e, &e2);
      break;
    case OPR_NOT:
      code_not(e);
      break;
    case OPR_LEN:
      exp2anyreg(e);
      code_arith(OP_LEN, e, &e2);
      break;
    default:
      break;
  }
}

void FuncState::infix(BinOpr op, ExpDesc* v) {
  switch (op) {
    case OPR_AND:
      go_if_true(v);
      break;
    case OPR_OR:
      go_if_false(v);
      break;
    case OPR_CONCAT:
      exp2nextreg(v);  // operands of CONCAT must be consecutive registers
      break;
    case OPR_ADD:
    case OPR_SUB:
    case OPR_MUL:
    case OPR_DIV:
    case OPR_MOD:
    case OPR_POW:
      if (!is_numeral(v)) exp2rk(v);  // numerals wait: they may fold
      break;
    default:
      exp2rk(v);
      break;
  }
}

void FuncState::posfix(BinOpr op, ExpDesc* e1, ExpDesc* e2) {
  switch (op) {
    case OPR_AND:
      discharge_vars(e2);
      concat(&e2->f, e1->f);
      *e1 = *e2;
      break;
    case OPR_OR:
      discharge_vars(e2);
      concat(&e2->t, e1->t);
      *e1 = *e2;
      break;
    case OPR_CONCAT:
      exp2val(e2);
      if (e2->k == VRELOCABLE && GET_OPCODE(code_of(*e2)) == OP_CONCAT) {
        // Merge a..b..c into one CONCAT over the whole register range.
        free_exp(e1);
        SETARG_B(code_of(*e2), e1->info);
        e1->k = VRELOCABLE;
        e1->info = e2->info;
      } else {
        exp2nextreg(e2);
        code_arith(OP_CONCAT, e1, e2);
      }
      break;
    case OPR_ADD: code_arith(OP_ADD, e1, e2); break;
    case OPR_SUB: code_arith(OP_SUB, e1, e2); break;
    case OPR_MUL: code_arith(OP_MUL, e1, e2); break;
    case OPR_DIV: code_arith(OP_DIV, e1, e2); break;
    case OPR_MOD: code_arith(OP_MOD, e1, e2); break;
    case OPR_POW: code_arith(OP_POW, e1, e2); break;
    case OPR_EQ: code_comp(OP_EQ, 1, e1, e2); break;
    case OPR_NE: code_comp(OP_EQ, 0, e1, e2); break;
    case OPR_LT: code_comp(OP_LT, 1, e1, e2); break;
    case OPR_LE: code_comp(OP_LE, 1, e1, e2); break;
    case OPR_GT: code_comp(OP_LT, 0, e1, e2); break;
    case OPR_GE: code_comp(OP_LE, 0, e1, e2); break;
    default: break;
  }
}

}  // namespace jitvm
