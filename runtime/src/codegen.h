// Bytecode emission for one function being compiled (lcode.c semantics).
//
// Why mirror lcode.c decision for decision: the interpreter, the JIT tiers and
// the tests compare against Lua 5.1's own output (`luac -l -l`), so register
// allocation, jump lists and constant order must come out identical.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <utility>

#include "opcodes.h"
#include "value.h"

namespace jitvm {

class Lexer;

constexpr int kNoJump = -1;  // end of a jump list (a jump to itself)

// Kinds of expression descriptor, in Lua 5.1's order (VLOCAL..VINDEXED are the
// assignable ones).
enum ExpKind {
  VVOID,       // no value (empty expression list)
  VNIL,
  VTRUE,
  VFALSE,
  VK,          // info = constant index
  VKNUM,       // nval = numeric value
  VLOCAL,      // info = register
  VUPVAL,      // info = upvalue index
  VGLOBAL,     // info = constant index of the name
  VINDEXED,    // info = table register, aux = key RK
  VJMP,        // info = pc of the jump instruction
  VRELOCABLE,  // info = pc of the instruction whose A is still to be set
  VNONRELOC,   // info = register holding the value
  VCALL,       // info = pc of the CALL
  VVARARG      // info = pc of the VARARG
};

struct ExpDesc {
  ExpKind k = VVOID;
  int info = 0;
  int aux = 0;
  double nval = 0;
  int t = kNoJump;  // jumps taken when the expression is true
  int f = kNoJump;  // jumps taken when the expression is false

  ExpDesc() = default;
  ExpDesc(ExpKind kind, int i) : k(kind), info(i) {}
  bool has_jumps() const { return t != f; }
  bool has_mult_ret() const { return k == VCALL || k == VVARARG; }
};

// ORDER matters: the parser's priority table is indexed by it.
enum BinOpr {
  OPR_ADD, OPR_SUB, OPR_MUL, OPR_DIV, OPR_MOD, OPR_POW, OPR_CONCAT,
  OPR_NE, OPR_EQ, OPR_LT, OPR_LE, OPR_GT, OPR_GE, OPR_AND, OPR_OR, OPR_NOBINOPR
};
enum UnOpr { OPR_MINUS, OPR_NOT, OPR_LEN, OPR_NOUNOPR };

// One lexical block; loops are "breakable" blocks.
struct BlockCnt {
  BlockCnt* previous = nullptr;
  int breaklist = kNoJump;
  int nactvar = 0;           // active locals outside the block
  bool upval = false;        // some local of the block is captured
  bool isbreakable = false;
};

struct UpvalDesc {
  uint8_t k;     // VLOCAL (register of the enclosing function) or VUPVAL
  uint8_t info;
};

// lOpArgMask / testTMode from lopcodes.c, needed by the code generator and the dumper.
enum OpArgMode { OpArgN, OpArgU, OpArgR, OpArgK };
OpArgMode op_b_mode(OpCode op);
OpArgMode op_c_mode(OpCode op);
bool op_is_test(OpCode op);  // the next instruction is a jump

class FuncState {
 public:
  FuncState(State* L, Lexer* ls, Proto* f, FuncState* prev) : f(f), prev(prev), ls(ls), L(L) {}

  int pc() const { return static_cast<int>(f->code.size()); }
  Instruction& code_at(int pc) { return f->code[pc]; }
  Instruction& code_of(const ExpDesc& e) { return f->code[e.info]; }

  // Emission.
  int code_abc(OpCode o, int a, int b, int c);
  int code_abx(OpCode o, int a, int bx);
  int code_asbx(OpCode o, int a, int sbx) { return code_abx(o, a, sbx + kMaxArgSBx); }
  void fix_line(int line) { f->lineinfo.back() = line; }
  void code_nil(int from, int n);
  void ret(int first, int nret) { code_abc(OP_RETURN, first, nret + 1, 0); }
  void set_list(int base, int nelems, int tostore);

  // Jumps.
  int jump();
  int get_label();
  void patch_list(int list, int target);
  void patch_to_here(int list);
  void concat(int* l1, int l2);

  // Registers.
  void check_stack(int n);
  void reserve_regs(int n);

  // Constants.
  int string_k(String* s);
  int number_k(double r);

  // Expressions.
  void set_returns(ExpDesc* e, int nresults);
  void set_mult_ret(ExpDesc* e) { set_returns(e, kMultRet); }
  void set_one_ret(ExpDesc* e);
  void discharge_vars(ExpDesc* e);
  void exp2nextreg(ExpDesc* e);
  int exp2anyreg(ExpDesc* e);
  void exp2val(ExpDesc* e);
  int exp2rk(ExpDesc* e);
  void store_var(ExpDesc* var, ExpDesc* ex);
  void self(ExpDesc* e, ExpDesc* key);
  void indexed(ExpDesc* t, ExpDesc* k);
  void go_if_true(ExpDesc* e);
  void prefix(UnOpr op, ExpDesc* e);
  void infix(BinOpr op, ExpDesc* v);
  void posfix(BinOpr op, ExpDesc* e1, ExpDesc* e2);

  Proto* f;
  FuncState* prev;
  Lexer* ls;
  State* L;
  BlockCnt* bl = nullptr;
  int lasttarget = -1;   // pc of the last jump target
  int jpc = kNoJump;     // jumps pending to the next instruction
  int freereg = 0;       // first free register
  int nactvar = 0;       // active locals
  UpvalDesc upvalues[kMaxUpvalues] = {};
  uint16_t actvar[kMaxVars] = {};  // locvars index of each active local

 private:
  int add_k(int kind, uint64_t bits, const Value& v);
  int bool_k(bool b);
  int nil_k();
  void free_reg(int reg);
  void free_exp(ExpDesc* e);
  int cond_jump(OpCode op, int a, int b, int c);
  void fix_jump(int pc, int dest);
  int get_jump(int pc);
  Instruction* get_jump_control(int pc);
  bool need_value(int list);
  bool patch_test_reg(int node, int reg);
  void remove_values(int list);
  void patch_list_aux(int list, int vtarget, int reg, int dtarget);
  void discharge_jpc();
  int code(Instruction i, int line);
  int code_label(int a, int b, int jump);
  void discharge2reg(ExpDesc* e, int reg);
  void discharge2anyreg(ExpDesc* e);
  void exp2reg(ExpDesc* e, int reg);
  void invert_jump(ExpDesc* e);
  int jump_on_cond(ExpDesc* e, bool cond);
  void go_if_false(ExpDesc* e);
  void code_not(ExpDesc* e);
  void code_arith(OpCode op, ExpDesc* e1, ExpDesc* e2);
  void code_comp(OpCode op, int cond, ExpDesc* e1, ExpDesc* e2);

  // Constant index by identity (luaH_set on fs->h): the keys pack a kind tag
  // with the number's bits or the string's address.
  struct KKeyHash {
    size_t operator()(const std::pair<int, uint64_t>& k) const {
      return std::hash<uint64_t>()(k.second) * 31 + static_cast<size_t>(k.first);
    }
  };
  std::unordered_map<std::pair<int, uint64_t>, int, KKeyHash> kcache_;
};

}  // namespace jitvm
