#include "parser.h"

#include <climits>
#include <cstring>
#include <new>
#include <string>

#include "api.h"

namespace jitvm {

namespace {

constexpr int kUnaryPriority = 8;

struct Priority {
  int left;
  int right;
};
// Indexed by BinOpr. Power and concatenation are right associative.
constexpr Priority kPriority[] = {
    {6, 6}, {6, 6}, {7, 7}, {7, 7}, {7, 7},  // + - * / %
    {10, 9}, {5, 4},                         // ^ ..
    {3, 3}, {3, 3},                          // ~= ==
    {3, 3}, {3, 3}, {3, 3}, {3, 3},          // < <= > >=
    {2, 2}, {1, 1}                           // and or
};

UnOpr get_unopr(int op) {
  switch (op) {
    case TK_NOT: return OPR_NOT;
    case '-': return OPR_MINUS;
    case '#': return OPR_LEN;
    default: return OPR_NOUNOPR;
  }
}

BinOpr get_binopr(int op) {
  switch (op) {
    case '+': return OPR_ADD;
    case '-': return OPR_SUB;
    case '*': return OPR_MUL;
    case '/': return OPR_DIV;
    case '%': return OPR_MOD;
    case '^': return OPR_POW;
    case TK_CONCAT: return OPR_CONCAT;
    case TK_NE: return OPR_NE;
    case TK_EQ: return OPR_EQ;
    case '<': return OPR_LT;
    case TK_LE: return OPR_LE;
    case '>': return OPR_GT;
    case TK_GE: return OPR_GE;
    case TK_AND: return OPR_AND;
    case TK_OR: return OPR_OR;
    default: return OPR_NOBINOPR;
  }
}

bool block_follow(int token) {
  switch (token) {
    case TK_ELSE:
    case TK_ELSEIF:
    case TK_END:
    case TK_UNTIL:
    case TK_EOS:
      return true;
    default:
      return false;
  }
}

}  // namespace

// ---- helpers ---------------------------------------------------------------------

void Parser::error_expected(int token) {
  ls_.syntax_error("'" + Lexer::token_to_str(token) + "' expected");
}

void Parser::error_limit(int limit, const char* what) {
  std::string msg = fs_->f->linedefined == 0
                        ? "main function has more than " + std::to_string(limit) + " " + what
                        : "function at line " + std::to_string(fs_->f->linedefined) + " has more than " +
                              std::to_string(limit) + " " + what;
  ls_.lex_error(msg, 0);
}

bool Parser::test_next(int c) {
  if (ls_.t.token != c) return false;
  ls_.next();
  return true;
}

void Parser::check(int c) {
  if (ls_.t.token != c) error_expected(c);
}

void Parser::check_next(int c) {
  check(c);
  ls_.next();
}

void Parser::check_match(int what, int who, int where) {
  if (test_next(what)) return;
  if (where == ls_.linenumber) error_expected(what);
  ls_.syntax_error("'" + Lexer::token_to_str(what) + "' expected (to close '" + Lexer::token_to_str(who) +
                   "' at line " + std::to_string(where) + ")");
}

String* Parser::str_checkname() {
  check(TK_NAME);
  String* ts = ls_.t.str;
  ls_.next();
  return ts;
}

void Parser::code_string(ExpDesc* e, String* s) { *e = ExpDesc(VK, fs_->string_k(s)); }

void Parser::checkname(ExpDesc* e) { code_string(e, str_checkname()); }

int Parser::register_local_var(String* varname) {
  Proto* f = fs_->f;
  if (f->locvars.size() >= SHRT_MAX) ls_.syntax_error("too many local variables");
  f->locvars.push_back(LocVar{varname, 0, 0});
  return static_cast<int>(f->locvars.size()) - 1;
}

void Parser::new_local_var(String* name, int n) {
  check_limit(fs_->nactvar + n + 1, kMaxVars, "local variables");
  fs_->actvar[fs_->nactvar + n] = static_cast<uint16_t>(register_local_var(name));
}

void Parser::new_local_var_literal(const char* name, int n) { new_local_var(ls_.new_string(name, strlen(name)), n); }

void Parser::adjust_local_vars(int nvars) {
  FuncState* fs = fs_;
  fs->nactvar += nvars;
  for (; nvars; nvars--) get_loc_var(fs, fs->nactvar - nvars).startpc = fs->pc();
}

void Parser::remove_vars(int tolevel) {
  FuncState* fs = fs_;
  while (fs->nactvar > tolevel) get_loc_var(fs, --fs->nactvar).endpc = fs->pc();
}

int Parser::index_upvalue(FuncState* fs, String* name, ExpDesc* v) {
  Proto* f = fs->f;
  for (int i = 0; i < f->nups; i++) {
    if (fs->upvalues[i].k == v->k && fs->upvalues[i].info == v->info) return i;
  }
  // Pass the enclosing function so the message names it, as Lua does.
  FuncState* saved = fs_;
  fs_ = fs;
  check_limit(f->nups + 1, kMaxUpvalues, "upvalues");
  fs_ = saved;
  f->upvalues.push_back(name);
  fs->upvalues[f->nups].k = static_cast<uint8_t>(v->k);
  fs->upvalues[f->nups].info = static_cast<uint8_t>(v->info);
  return f->nups++;
}

int Parser::search_var(FuncState* fs, String* n) {
  for (int i = fs->nactvar - 1; i >= 0; i--) {
    if (n == fs->f->locvars[fs->actvar[i]].name) return i;
  }
  return -1;
}

void Parser::mark_upval(FuncState* fs, int level) {
  BlockCnt* bl = fs->bl;
  while (bl && bl->nactvar > level) bl = bl->previous;
  if (bl) bl->upval = true;
}

int Parser::single_var_aux(FuncState* fs, String* n, ExpDesc* var, bool base) {
  if (fs == nullptr) {
    *var = ExpDesc(VGLOBAL, kNoReg);
    return VGLOBAL;
  }
  int v = search_var(fs, n);
  if (v >= 0) {
    *var = ExpDesc(VLOCAL, v);
    if (!base) mark_upval(fs, v);  // captured by an inner function
    return VLOCAL;
  }
  if (single_var_aux(fs->prev, n, var, false) == VGLOBAL) return VGLOBAL;
  var->info = index_upvalue(fs, n, var);
  var->k = VUPVAL;
  return VUPVAL;
}

void Parser::single_var(ExpDesc* var) {
  String* varname = str_checkname();
  if (single_var_aux(fs_, varname, var, true) == VGLOBAL) var->info = fs_->string_k(varname);
}

void Parser::adjust_assign(int nvars, int nexps, ExpDesc* e) {
  FuncState* fs = fs_;
  int extra = nvars - nexps;
  if (e->has_mult_ret()) {
    extra++;  // the call itself counts
    if (extra < 0) extra = 0;
    fs->set_returns(e, extra);
    if (extra > 1) fs->reserve_regs(extra - 1);
  } else {
    if (e->k != VVOID) fs->exp2nextreg(e);
    if (extra > 0) {
      int reg = fs->freereg;
      fs->reserve_regs(extra);
      fs->code_nil(reg, extra);
    }
  }
}

void Parser::enter_level() {
  if (++ls_.syntax_depth > kMaxCCalls) ls_.lex_error("chunk has too many syntax levels", 0);
}

void Parser::enter_block(FuncState* fs, BlockCnt* bl, bool isbreakable) {
  bl->breaklist = kNoJump;
  bl->isbreakable = isbreakable;
  bl->nactvar = fs->nactvar;
  bl->upval = false;
  bl->previous = fs->bl;
  fs->bl = bl;
}

void Parser::leave_block(FuncState* fs) {
  BlockCnt* bl = fs->bl;
  fs->bl = bl->previous;
  remove_vars(bl->nactvar);
  if (bl->upval) fs->code_abc(OP_CLOSE, bl->nactvar, 0, 0);
  fs->freereg = fs->nactvar;
  fs->patch_to_here(bl->breaklist);
}

void Parser::push_closure(FuncState* func, ExpDesc* v) {
  FuncState* fs = fs_;
  Proto* f = fs->f;
  if (static_cast<int>(f->p.size()) >= kMaxArgBx) ls_.syntax_error("constant table overflow");
  f->p.push_back(func->f);
  *v = ExpDesc(VRELOCABLE, fs->code_abx(OP_CLOSURE, 0, static_cast<int>(f->p.size()) - 1));
  // Pseudo-instructions telling CLOSURE where each upvalue comes from.
  for (int i = 0; i < func->f->nups; i++) {
    OpCode o = func->upvalues[i].k == VLOCAL ? OP_MOVE : OP_GETUPVAL;
    fs->code_abc(o, 0, func->upvalues[i].info, 0);
  }
}

void Parser::open_func(FuncState* fs) {
  fs_ = fs;
  fs->f->source = ls_.source;
  fs->f->maxstacksize = 2;  // registers 0/1 are always valid
}

void Parser::close_func() {
  FuncState* fs = fs_;
  remove_vars(0);
  fs->ret(0, 0);  // final return
  fs_ = fs->prev;
}

Proto* Parser::main_function() {
  FuncState fs(L_, &ls_, new_proto(L_), nullptr);
  open_func(&fs);
  fs.f->is_vararg = kVarargIsVararg;  // the main chunk is always vararg
  ls_.next();
  chunk();
  check(TK_EOS);
  close_func();
  return fs.f;
}

// ---- expressions -------------------------------------------------------------------

void Parser::field(ExpDesc* v) {
  // field -> ['.' | ':'] NAME
  ExpDesc key;
  fs_->exp2anyreg(v);
  ls_.next();  // the dot or colon
  checkname(&key);
  fs_->indexed(v, &key);
}

void Parser::yindex(ExpDesc* v) {
  // index -> '[' expr ']'
  ls_.next();
  expr(v);
  fs_->exp2val(v);
  check_next(']');
}

void Parser::recfield(ConsControl* cc) {
  // recfield -> (NAME | '['exp1']') = exp1
  FuncState* fs = fs_;
  int reg = fs->freereg;
  ExpDesc key, val;
  if (ls_.t.token == TK_NAME) {
    check_limit(cc->nh, INT_MAX, "items in a constructor");
    checkname(&key);
  } else {
    yindex(&key);
  }
  cc->nh++;
  check_next('=');
  int rkkey = fs->exp2rk(&key);
  expr(&val);
  fs->code_abc(OP_SETTABLE, cc->t->info, rkkey, fs->exp2rk(&val));
  fs->freereg = reg;
}

void Parser::close_list_field(ConsControl* cc) {
  if (cc->v.k == VVOID) return;
  fs_->exp2nextreg(&cc->v);
  cc->v.k = VVOID;
  if (cc->tostore == kFieldsPerFlush) {
    fs_->set_list(cc->t->info, cc->na, cc->tostore);
    cc->tostore = 0;
  }
}

void Parser::last_list_field(ConsControl* cc) {
  if (cc->tostore == 0) return;
  if (cc->v.has_mult_ret()) {
    fs_->set_mult_ret(&cc->v);
    fs_->set_list(cc->t->info, cc->na, kMultRet);
    cc->na--;  // the open item's count is unknown
  } else {
    if (cc->v.k != VVOID) fs_->exp2nextreg(&cc->v);
    fs_->set_list(cc->t->info, cc->na, cc->tostore);
  }
}

void Parser::list_field(ConsControl* cc) {
  expr(&cc->v);
  check_limit(cc->na, INT_MAX, "items in a constructor");
  cc->na++;
  cc->tostore++;
}

void Parser::constructor(ExpDesc* t) {
  FuncState* fs = fs_;
  int line = ls_.linenumber;
  int pc = fs->code_abc(OP_NEWTABLE, 0, 0, 0);
  ConsControl cc;
  cc.t = t;
  *t = ExpDesc(VRELOCABLE, pc);
  cc.v = ExpDesc(VVOID, 0);
  fs->exp2nextreg(t);  // the table sits at the stack top while it is filled
  check_next('{');
  do {
    if (ls_.t.token == '}') break;
    close_list_field(&cc);
    switch (ls_.t.token) {
      case TK_NAME:
        ls_.lookahead();
        if (ls_.ahead.token != '=')
          list_field(&cc);
        else
          recfield(&cc);
        break;
      case '[':
        recfield(&cc);
        break;
      default:
        list_field(&cc);
        break;
    }
  } while (test_next(',') || test_next(';'));
  check_match('}', '{', line);
  last_list_field(&cc);
  SETARG_B(fs->code_at(pc), int2fb(static_cast<unsigned>(cc.na)));
  SETARG_C(fs->code_at(pc), int2fb(static_cast<unsigned>(cc.nh)));
}

void Parser::parlist() {
  // parlist -> [ param { ',' param } ]
  FuncState* fs = fs_;
  Proto* f = fs->f;
  int nparams = 0;
  f->is_vararg = 0;
  if (ls_.t.token != ')') {
    do {
      switch (ls_.t.token) {
        case TK_NAME:
          new_local_var(str_checkname(), nparams++);
          break;
        case TK_DOTS:
          ls_.next();
          // LUA_COMPAT_VARARG: an implicit `arg` table unless `...` is used in the body.
          new_local_var_literal("arg", nparams++);
          f->is_vararg = kVarargHasArg | kVarargNeedsArg;
          f->is_vararg |= kVarargIsVararg;
          break;
        default:
          ls_.syntax_error("<name> or '...' expected");
      }
    } while (!f->is_vararg && test_next(','));
  }
  adjust_local_vars(nparams);
  f->numparams = static_cast<uint8_t>(fs->nactvar - (f->is_vararg & kVarargHasArg));
  fs->reserve_regs(fs->nactvar);
}

void Parser::body(ExpDesc* e, bool needself, int line) {
  // body -> '(' parlist ')' chunk END
  FuncState new_fs(L_, &ls_, new_proto(L_), fs_);
  open_func(&new_fs);
  new_fs.f->linedefined = line;
  check_next('(');
  if (needself) {
    new_local_var_literal("self", 0);
    adjust_local_vars(1);
  }
  parlist();
  check_next(')');
  chunk();
  new_fs.f->lastlinedefined = ls_.linenumber;
  check_match(TK_END, TK_FUNCTION, line);
  close_func();
  push_closure(&new_fs, e);
}

int Parser::explist1(ExpDesc* v) {
  // explist1 -> expr { ',' expr }
  int n = 1;
  expr(v);
  while (test_next(',')) {
    fs_->exp2nextreg(v);
    expr(v);
    n++;
  }
  return n;
}

void Parser::funcargs(ExpDesc* f) {
  FuncState* fs = fs_;
  ExpDesc args;
  int line = ls_.linenumber;
  switch (ls_.t.token) {
    case '(':
      if (line != ls_.lastline) ls_.syntax_error("ambiguous syntax (function call x new statement)");
      ls_.next();
      if (ls_.t.token == ')') {
        args.k = VVOID;
      } else {
        explist1(&args);
        fs->set_mult_ret(&args);
      }
      check_match(')', '(', line);
      break;
    case '{':
      constructor(&args);
      break;
    case TK_STRING:
      code_string(&args, ls_.t.str);
      ls_.next();
      break;
    default:
      ls_.syntax_error("function arguments expected");
  }
  int base = f->info;  // the function's register
  int nparams;
  if (args.has_mult_ret()) {
    nparams = kMultRet;
  } else {
    if (args.k != VVOID) fs->exp2nextreg(&args);
    nparams = fs->freereg - (base + 1);
  }
  *f = ExpDesc(VCALL, fs->code_abc(OP_CALL, base, nparams + 1, 2));
  fs->fix_line(line);
  fs->freereg = base + 1;  // the call leaves one result (unless changed later)
}

void Parser::prefixexp(ExpDesc* v) {
  // prefixexp -> NAME | '(' expr ')'
  switch (ls_.t.token) {
    case '(': {
      int line = ls_.linenumber;
      ls_.next();
      expr(v);
      check_match(')', '(', line);
      fs_->discharge_vars(v);
      return;
    }
    case TK_NAME:
      single_var(v);
      return;
    default:
      ls_.syntax_error("unexpected symbol");
  }
}

void Parser::primaryexp(ExpDesc* v) {
  // primaryexp -> prefixexp { '.' NAME | '[' exp ']' | ':' NAME funcargs | funcargs }
  FuncState* fs = fs_;
  prefixexp(v);
  for (;;) {
    switch (ls_.t.token) {
      case '.':
        field(v);
        break;
      case '[': {
        ExpDesc key;
        fs->exp2anyreg(v);
        yindex(&key);
        fs->indexed(v, &key);
        break;
      }
      case ':': {
        ExpDesc key;
        ls_.next();
        checkname(&key);
        fs->self(v, &key);
        funcargs(v);
        break;
      }
      case '(':
      case TK_STRING:
      case '{':
        fs->exp2nextreg(v);
        funcargs(v);
        break;
      default:
        return;
    }
  }
}

void Parser::simpleexp(ExpDesc* v) {
  // simpleexp -> NUMBER | STRING | NIL | true | false | ... | constructor | FUNCTION body | primaryexp
  switch (ls_.t.token) {
    case TK_NUMBER:
      *v = ExpDesc(VKNUM, 0);
      v->nval = ls_.t.num;
      break;
    case TK_STRING:
      code_string(v, ls_.t.str);
      break;
    case TK_NIL:
      *v = ExpDesc(VNIL, 0);
      break;
    case TK_TRUE:
      *v = ExpDesc(VTRUE, 0);
      break;
    case TK_FALSE:
      *v = ExpDesc(VFALSE, 0);
      break;
    case TK_DOTS: {
      FuncState* fs = fs_;
      check_condition(fs->f->is_vararg, "cannot use '...' outside a vararg function");
      fs->f->is_vararg &= ~kVarargNeedsArg;  // `...` is used, so no `arg` table
      *v = ExpDesc(VVARARG, fs->code_abc(OP_VARARG, 0, 1, 0));
      break;
    }
    case '{':
      constructor(v);
      return;
    case TK_FUNCTION:
      ls_.next();
      body(v, false, ls_.linenumber);
      return;
    default:
      primaryexp(v);
      return;
  }
  ls_.next();
}

BinOpr Parser::subexpr(ExpDesc* v, int limit) {
  // subexpr -> (simpleexp | unop subexpr) { binop subexpr }, binops tighter than `limit`
  enter_level();
  UnOpr uop = get_unopr(ls_.t.token);
  if (uop != OPR_NOUNOPR) {
    ls_.next();
    subexpr(v, kUnaryPriority);
    fs_->prefix(uop, v);
  } else {
    simpleexp(v);
  }
  BinOpr op = get_binopr(ls_.t.token);
  while (op != OPR_NOBINOPR && kPriority[op].left > limit) {
    ExpDesc v2;
    ls_.next();
    fs_->infix(op, v);
    BinOpr nextop = subexpr(&v2, kPriority[op].right);
    fs_->posfix(op, v, &v2);
    op = nextop;
  }
  leave_level();
  return op;
}

// ---- statements --------------------------------------------------------------------

void Parser::block() {
  FuncState* fs = fs_;
  BlockCnt bl;
  enter_block(fs, &bl, false);
  chunk();
  leave_block(fs);
}

// In `a[i], i = ...` the table or key register of an earlier target may be a
// local assigned later in the same statement: copy it first.
void Parser::check_conflict(LHSAssign* lh, ExpDesc* v) {
  FuncState* fs = fs_;
  int extra = fs->freereg;
  bool conflict = false;
  for (; lh; lh = lh->prev) {
    if (lh->v.k == VINDEXED) {
      if (lh->v.info == v->info) {
        conflict = true;
        lh->v.info = extra;
      }
      if (lh->v.aux == v->info) {
        conflict = true;
        lh->v.aux = extra;
      }
    }
  }
  if (conflict) {
    fs->code_abc(OP_MOVE, fs->freereg, v->info, 0);
    fs->reserve_regs(1);
  }
}

void Parser::assignment(LHSAssign* lh, int nvars) {
  ExpDesc e;
  check_condition(VLOCAL <= lh->v.k && lh->v.k <= VINDEXED, "syntax error");
  if (test_next(',')) {
    LHSAssign nv;
    nv.prev = lh;
    primaryexp(&nv.v);
    if (nv.v.k == VLOCAL) check_conflict(lh, &nv.v);
    check_limit(nvars, kMaxCCalls - ls_.syntax_depth, "variables in assignment");
    assignment(&nv, nvars + 1);
  } else {
    check_next('=');
    int nexps = explist1(&e);
    if (nexps != nvars) {
      adjust_assign(nvars, nexps, &e);
      if (nexps > nvars) fs_->freereg -= nexps - nvars;  // drop the extra values
    } else {
      fs_->set_one_ret(&e);
      fs_->store_var(&lh->v, &e);
      return;
    }
  }
  e = ExpDesc(VNONRELOC, fs_->freereg - 1);  // default: the value on top of the stack
  fs_->store_var(&lh->v, &e);
}

int Parser::cond() {
  ExpDesc v;
  expr(&v);
  if (v.k == VNIL) v.k = VFALSE;  // all false values jump alike
  fs_->go_if_true(&v);
  return v.f;
}

void Parser::breakstat() {
  FuncState* fs = fs_;
  BlockCnt* bl = fs->bl;
  bool upval = false;
  while (bl && !bl->isbreakable) {
    upval |= bl->upval;
    bl = bl->previous;
  }
  if (!bl) ls_.syntax_error("no loop to break");
  if (upval) fs->code_abc(OP_CLOSE, bl->nactvar, 0, 0);
  fs->concat(&bl->breaklist, fs->jump());
}

void Parser::whilestat(int line) {
  // whilestat -> WHILE cond DO block END
  FuncState* fs = fs_;
  BlockCnt bl;
  ls_.next();
  int whileinit = fs->get_label();
  int condexit = cond();
  enter_block(fs, &bl, true);
  check_next(TK_DO);
  block();
  fs->patch_list(fs->jump(), whileinit);
  check_match(TK_END, TK_WHILE, line);
  leave_block(fs);
  fs->patch_to_here(condexit);
}

void Parser::repeatstat(int line) {
  // repeatstat -> REPEAT block UNTIL cond
  FuncState* fs = fs_;
  int repeat_init = fs->get_label();
  BlockCnt bl1, bl2;
  enter_block(fs, &bl1, true);   // loop block
  enter_block(fs, &bl2, false);  // scope block (the condition sees its locals)
  ls_.next();
  chunk();
  check_match(TK_UNTIL, TK_REPEAT, line);
  int condexit = cond();
  if (!bl2.upval) {
    leave_block(fs);
    fs->patch_list(condexit, repeat_init);
  } else {
    // Captured locals must be closed on every iteration: exit via a break.
    breakstat();
    fs->patch_to_here(condexit);
    leave_block(fs);
    fs->patch_list(fs->jump(), repeat_init);
  }
  leave_block(fs);
}

int Parser::exp1() {
  ExpDesc e;
  expr(&e);
  int k = e.k;
  fs_->exp2nextreg(&e);
  return k;
}

void Parser::forbody(int base, int line, int nvars, bool isnum) {
  // forbody -> DO block
  BlockCnt bl;
  FuncState* fs = fs_;
  adjust_local_vars(3);  // control variables
  check_next(TK_DO);
  int prep = isnum ? fs->code_asbx(OP_FORPREP, base, kNoJump) : fs->jump();
  enter_block(fs, &bl, false);
  adjust_local_vars(nvars);
  fs->reserve_regs(nvars);
  block();
  leave_block(fs);
  fs->patch_to_here(prep);
  int endfor = isnum ? fs->code_asbx(OP_FORLOOP, base, kNoJump) : fs->code_abc(OP_TFORLOOP, base, 0, nvars);
  fs->fix_line(line);  // the loop instruction belongs to the `for` line
  fs->patch_list(isnum ? endfor : fs->jump(), prep + 1);
}

void Parser::fornum(String* varname, int line) {
  // fornum -> NAME = exp1,exp1[,exp1] forbody
  FuncState* fs = fs_;
  int base = fs->freereg;
  new_local_var_literal("(for index)", 0);
  new_local_var_literal("(for limit)", 1);
  new_local_var_literal("(for step)", 2);
  new_local_var(varname, 3);
  check_next('=');
  exp1();
  check_next(',');
  exp1();
  if (test_next(',')) {
    exp1();
  } else {
    fs->code_abx(OP_LOADK, fs->freereg, fs->number_k(1));
    fs->reserve_regs(1);
  }
  forbody(base, line, 1, true);
}

void Parser::forlist(String* indexname) {
  // forlist -> NAME {,NAME} IN explist1 forbody
  FuncState* fs = fs_;
  ExpDesc e;
  int nvars = 0;
  int base = fs->freereg;
  new_local_var_literal("(for generator)", nvars++);
  new_local_var_literal("(for state)", nvars++);
  new_local_var_literal("(for control)", nvars++);
  new_local_var(indexname, nvars++);
  while (test_next(',')) new_local_var(str_checkname(), nvars++);
  check_next(TK_IN);
  int line = ls_.linenumber;
  int nexps = explist1(&e);
  adjust_assign(3, nexps, &e);
  fs->check_stack(3);  // room to call the generator
  forbody(base, line, nvars - 3, false);
}

void Parser::forstat(int line) {
  // forstat -> FOR (fornum | forlist) END
  FuncState* fs = fs_;
  BlockCnt bl;
  enter_block(fs, &bl, true);  // scope of the loop and control variables
  ls_.next();
  String* varname = str_checkname();
  switch (ls_.t.token) {
    case '=':
      fornum(varname, line);
      break;
    case ',':
    case TK_IN:
      forlist(varname);
      break;
    default:
      ls_.syntax_error("'=' or 'in' expected");
  }
  check_match(TK_END, TK_FOR, line);
  leave_block(fs);
}

int Parser::test_then_block() {
  // test_then_block -> [IF | ELSEIF] cond THEN block
  ls_.next();
  int condexit = cond();
  check_next(TK_THEN);
  block();
  return condexit;
}

void Parser::ifstat(int line) {
  // ifstat -> IF cond THEN block {ELSEIF cond THEN block} [ELSE block] END
  FuncState* fs = fs_;
  int escapelist = kNoJump;
  int flist = test_then_block();
  while (ls_.t.token == TK_ELSEIF) {
    fs->concat(&escapelist, fs->jump());
    fs->patch_to_here(flist);
    flist = test_then_block();
  }
  if (ls_.t.token == TK_ELSE) {
    fs->concat(&escapelist, fs->jump());
    fs->patch_to_here(flist);
    ls_.next();  // after the patch, so the jump gets the right line
    block();
  } else {
    fs->concat(&escapelist, flist);
  }
  fs->patch_to_here(escapelist);
  check_match(TK_END, TK_IF, line);
}

void Parser::localfunc() {
  FuncState* fs = fs_;
  ExpDesc b;
  new_local_var(str_checkname(), 0);
  ExpDesc v(VLOCAL, fs->freereg);
  fs->reserve_regs(1);
  adjust_local_vars(1);  // visible inside its own body, for recursion
  body(&b, false, ls_.linenumber);
  fs->store_var(&v, &b);
  // The debug info sees the variable only once it holds the closure.
  get_loc_var(fs, fs->nactvar - 1).startpc = fs->pc();
}

void Parser::localstat() {
  // stat -> LOCAL NAME {',' NAME} ['=' explist1]
  int nvars = 0;
  int nexps;
  ExpDesc e;
  do {
    new_local_var(str_checkname(), nvars++);
  } while (test_next(','));
  if (test_next('=')) {
    nexps = explist1(&e);
  } else {
    e.k = VVOID;
    nexps = 0;
  }
  adjust_assign(nvars, nexps, &e);
  adjust_local_vars(nvars);
}

bool Parser::funcname(ExpDesc* v) {
  // funcname -> NAME {field} [':' NAME]
  bool needself = false;
  single_var(v);
  while (ls_.t.token == '.') field(v);
  if (ls_.t.token == ':') {
    needself = true;
    field(v);
  }
  return needself;
}

void Parser::funcstat(int line) {
  // funcstat -> FUNCTION funcname body
  ExpDesc v, b;
  ls_.next();
  bool needself = funcname(&v);
  body(&b, needself, line);
  fs_->store_var(&v, &b);
  fs_->fix_line(line);  // the definition happens on the `function` line
}

void Parser::exprstat() {
  // stat -> func | assignment
  FuncState* fs = fs_;
  LHSAssign v;
  primaryexp(&v.v);
  if (v.v.k == VCALL) {
    SETARG_C(fs->code_of(v.v), 1);  // a call statement keeps no results
  } else {
    v.prev = nullptr;
    assignment(&v, 1);
  }
}

void Parser::retstat() {
  // stat -> RETURN explist
  FuncState* fs = fs_;
  ExpDesc e;
  int first, nret;
  ls_.next();
  if (block_follow(ls_.t.token) || ls_.t.token == ';') {
    first = nret = 0;
  } else {
    nret = explist1(&e);
    if (e.has_mult_ret()) {
      fs->set_mult_ret(&e);
      if (e.k == VCALL && nret == 1) SET_OPCODE(fs->code_of(e), OP_TAILCALL);
      first = fs->nactvar;
      nret = kMultRet;
    } else if (nret == 1) {
      first = fs->exp2anyreg(&e);
    } else {
      fs->exp2nextreg(&e);  // the values must be consecutive
      first = fs->nactvar;
    }
  }
  fs->ret(first, nret);
}

bool Parser::statement() {
  int line = ls_.linenumber;
  switch (ls_.t.token) {
    case TK_IF:
      ifstat(line);
      return false;
    case TK_WHILE:
      whilestat(line);
      return false;
    case TK_DO:
      ls_.next();
      block();
      check_match(TK_END, TK_DO, line);
      return false;
    case TK_FOR:
      forstat(line);
      return false;
    case TK_REPEAT:
      repeatstat(line);
      return false;
    case TK_FUNCTION:
      funcstat(line);
      return false;
    case TK_LOCAL:
      ls_.next();
      if (test_next(TK_FUNCTION))
        localfunc();
      else
        localstat();
      return false;
    case TK_RETURN:
      retstat();
      return true;  // must be the last statement
    case TK_BREAK:
      ls_.next();
      breakstat();
      return true;  // must be the last statement
    default:
      exprstat();
      return false;
  }
}

void Parser::chunk() {
  // chunk -> { stat [';'] }
  bool islast = false;
  enter_level();
  while (!islast && !block_follow(ls_.t.token)) {
    islast = statement();
    test_next(';');
    fs_->freereg = fs_->nactvar;  // statements leave no temporaries
  }
  leave_level();
}

// ---- entry points ------------------------------------------------------------------

Proto* parse_chunk(State* L, const char* src, size_t len, String* source) {
  // Lua counts syntax levels on top of the C calls in progress; a load from the
  // top level starts at 1, as luac's does.
  Parser parser(L, src, len, source, L->n_ccalls + 1);
  return parser.main_function();
}

Proto* compile_chunk(State* L, const char* src, size_t len, const char* chunkname, std::string* err) {
  try {
    String* source = new_string(L, chunkname, strlen(chunkname));
    return parse_chunk(L, src, len, source);
  } catch (const CompileError& e) {
    if (err) *err = e.message;
  } catch (const std::bad_alloc&) {
    if (err) *err = "not enough memory";
  } catch (const LuaError& e) {
    // Only allocation failures inside the runtime can raise here.
    if (err) *err = e.value.is_string() ? e.value.as_string()->str() : "error while compiling";
  }
  return nullptr;
}

Proto* compile_chunk_reader(State* L, const std::function<bool(std::string*)>& reader, const char* chunkname,
                            std::string* err) {
  ChunkReader r = reader;
  tls_chunk_reader = &r;
  // The reader runs Lua code while prototypes are half built and unrooted:
  // no collection until the parse is over.
  bool was_running = L->g->gc_running;
  L->g->gc_running = true;
  Proto* p = compile_chunk(L, "", 0, chunkname, err);
  L->g->gc_running = was_running;
  tls_chunk_reader = nullptr;
  return p;
}

}  // namespace jitvm
