// The Lua 5.1 recursive-descent parser (lparser.c semantics). It drives the
// code generator directly: there is no syntax tree, exactly as in PUC Lua,
// which is what makes the produced bytecode identical to luac's.
#pragma once

#include <cstddef>

#include "codegen.h"
#include "lexer.h"

namespace jitvm {

// Parses a whole chunk into its main function prototype. Throws CompileError.
Proto* parse_chunk(State* L, const char* src, size_t len, String* source);

class Parser {
 public:
  Parser(State* L, const char* src, size_t len, String* source, int syntax_depth)
      : ls_(L, src, len, source, syntax_depth), L_(L) {}
  Proto* main_function();

 private:
  struct LHSAssign {
    LHSAssign* prev;
    ExpDesc v;
  };
  struct ConsControl {
    ExpDesc v;       // last list item read
    ExpDesc* t;      // the table
    int nh = 0;      // record fields
    int na = 0;      // array items
    int tostore = 0; // array items pending a SETLIST
  };

  // Helpers.
  [[noreturn]] void error_expected(int token);
  [[noreturn]] void error_limit(int limit, const char* what);
  void check_limit(int v, int limit, const char* what) {
    if (v > limit) error_limit(limit, what);
  }
  bool test_next(int c);
  void check(int c);
  void check_next(int c);
  void check_condition(bool c, const char* msg) {
    if (!c) ls_.syntax_error(msg);
  }
  void check_match(int what, int who, int where);
  String* str_checkname();
  void code_string(ExpDesc* e, String* s);
  void checkname(ExpDesc* e);
  int register_local_var(String* varname);
  void new_local_var(String* name, int n);
  void new_local_var_literal(const char* name, int n);
  void adjust_local_vars(int nvars);
  void remove_vars(int tolevel);
  LocVar& get_loc_var(FuncState* fs, int i) { return fs->f->locvars[fs->actvar[i]]; }
  int index_upvalue(FuncState* fs, String* name, ExpDesc* v);
  static int search_var(FuncState* fs, String* n);
  static void mark_upval(FuncState* fs, int level);
  int single_var_aux(FuncState* fs, String* n, ExpDesc* var, bool base);
  void single_var(ExpDesc* var);
  void adjust_assign(int nvars, int nexps, ExpDesc* e);
  void enter_level();
  void leave_level() { ls_.syntax_depth--; }
  void enter_block(FuncState* fs, BlockCnt* bl, bool isbreakable);
  void leave_block(FuncState* fs);
  void push_closure(FuncState* func, ExpDesc* v);
  void open_func(FuncState* fs);
  void close_func();

  // Expressions.
  void field(ExpDesc* v);
  void yindex(ExpDesc* v);
  void recfield(ConsControl* cc);
  void close_list_field(ConsControl* cc);
  void last_list_field(ConsControl* cc);
  void list_field(ConsControl* cc);
  void constructor(ExpDesc* t);
  void parlist();
  void body(ExpDesc* e, bool needself, int line);
  int explist1(ExpDesc* v);
  void funcargs(ExpDesc* f);
  void prefixexp(ExpDesc* v);
  void primaryexp(ExpDesc* v);
  void simpleexp(ExpDesc* v);
  BinOpr subexpr(ExpDesc* v, int limit);
  void expr(ExpDesc* v) { subexpr(v, 0); }

  // Statements.
  void block();
  void check_conflict(LHSAssign* lh, ExpDesc* v);
  void assignment(LHSAssign* lh, int nvars);
  int cond();
  void breakstat();
  void whilestat(int line);
  void repeatstat(int line);
  int exp1();
  void forbody(int base, int line, int nvars, bool isnum);
  void fornum(String* varname, int line);
  void forlist(String* indexname);
  void forstat(int line);
  int test_then_block();
  void ifstat(int line);
  void localfunc();
  void localstat();
  bool funcname(ExpDesc* v);
  void funcstat(int line);
  void exprstat();
  void retstat();
  bool statement();
  void chunk();

  Lexer ls_;
  State* L_;
  FuncState* fs_ = nullptr;
};

}  // namespace jitvm
