#include "dump.h"

#include <cstdarg>
#include <cstdio>

#include "codegen.h"
#include "opcodes.h"

namespace jitvm {

namespace {

class Printer {
 public:
  std::string out;

  void printf(const char* fmt, ...) __attribute__((format(printf, 2, 3))) {
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if (static_cast<size_t>(n) < sizeof buf) {
      out.append(buf, static_cast<size_t>(n));
      return;
    }
    std::string big(static_cast<size_t>(n) + 1, '\0');
    va_start(ap, fmt);
    std::vsnprintf(big.data(), big.size(), fmt, ap);
    va_end(ap);
    out.append(big.data(), static_cast<size_t>(n));
  }
  void put(char c) { out.push_back(c); }
  void puts(const std::string& s) { out += s; }

  void print_string(const String* ts) {
    put('"');
    for (uint32_t i = 0; i < ts->len; i++) {
      unsigned char c = static_cast<unsigned char>(ts->data[i]);
      switch (c) {
        case '"': puts("\\\""); break;
        case '\\': puts("\\\\"); break;
        case '\a': puts("\\a"); break;
        case '\b': puts("\\b"); break;
        case '\f': puts("\\f"); break;
        case '\n': puts("\\n"); break;
        case '\r': puts("\\r"); break;
        case '\t': puts("\\t"); break;
        case '\v': puts("\\v"); break;
        default:
          if (c >= 32 && c < 127)  // isprint in the C locale
            put(static_cast<char>(c));
          else
            printf("\\%03u", c);
      }
    }
    put('"');
  }

  void print_constant(const Proto* f, int i) {
    const Value& o = f->k[i];
    switch (o.tt) {
      case kTNil: puts("nil"); break;
      case kTBoolean: puts(o.b ? "true" : "false"); break;
      case kTNumber: printf("%.14g", o.n); break;
      case kTString: print_string(o.as_string()); break;
      default: printf("? type=%d", o.tt); break;
    }
  }

  void print_code(const Proto* f) {
    int n = static_cast<int>(f->code.size());
    for (int pc = 0; pc < n; pc++) {
      Instruction i = f->code[pc];
      OpCode o = GET_OPCODE(i);
      int a = GETARG_A(i), b = GETARG_B(i), c = GETARG_C(i);
      int bx = GETARG_Bx(i), sbx = GETARG_sBx(i);
      int line = pc < static_cast<int>(f->lineinfo.size()) ? f->lineinfo[pc] : 0;
      printf("\t%d\t", pc + 1);
      if (line > 0)
        printf("[%d]\t", line);
      else
        puts("[-]\t");
      printf("%-9s\t", o < kNumOpcodes ? kOpNames[o] : "?");
      if (o >= kNumOpcodes) {
        put('\n');
        continue;
      }
      switch (kOpModes[o]) {
        case iABC:
          printf("%d", a);
          if (op_b_mode(o) != OpArgN) printf(" %d", ISK(b) ? (-1 - INDEXK(b)) : b);
          if (op_c_mode(o) != OpArgN) printf(" %d", ISK(c) ? (-1 - INDEXK(c)) : c);
          break;
        case iABx:
          if (op_b_mode(o) == OpArgK)
            printf("%d %d", a, -1 - bx);
          else
            printf("%d %d", a, bx);
          break;
        case iAsBx:
          if (o == OP_JMP)
            printf("%d", sbx);
          else
            printf("%d %d", a, sbx);
          break;
      }
      switch (o) {
        case OP_LOADK:
          puts("\t; ");
          print_constant(f, bx);
          break;
        case OP_GETUPVAL:
        case OP_SETUPVAL:
          printf("\t; %s", !f->upvalues.empty() ? f->upvalues[b]->c_str() : "-");
          break;
        case OP_GETGLOBAL:
        case OP_SETGLOBAL:
          printf("\t; %s", f->k[bx].as_string()->c_str());
          break;
        case OP_GETTABLE:
        case OP_SELF:
          if (ISK(c)) {
            puts("\t; ");
            print_constant(f, INDEXK(c));
          }
          break;
        // OP_MOD is missing here in luac 5.1 too; keeping the listings identical.
        case OP_SETTABLE:
        case OP_ADD:
        case OP_SUB:
        case OP_MUL:
        case OP_DIV:
        case OP_POW:
        case OP_EQ:
        case OP_LT:
        case OP_LE:
          if (ISK(b) || ISK(c)) {
            puts("\t; ");
            if (ISK(b))
              print_constant(f, INDEXK(b));
            else
              put('-');
            put(' ');
            if (ISK(c))
              print_constant(f, INDEXK(c));
            else
              put('-');
          }
          break;
        case OP_JMP:
        case OP_FORLOOP:
        case OP_FORPREP:
          printf("\t; to %d", sbx + pc + 2);
          break;
        case OP_CLOSURE:
          printf("\t; %p", static_cast<const void*>(f->p[bx]));
          break;
        case OP_SETLIST:
          if (c == 0)
            printf("\t; %d", static_cast<int>(f->code[++pc]));
          else
            printf("\t; %d", c);
          break;
        default:
          break;
      }
      put('\n');
    }
  }

  static const char* plural(int x) { return x == 1 ? "" : "s"; }

  void print_header(const Proto* f) {
    const char* s = f->source ? f->source->c_str() : "=?";
    if (*s == '@' || *s == '=')
      s++;
    else if (*s == '\033')
      s = "(bstring)";
    else
      s = "(string)";
    int ncode = static_cast<int>(f->code.size());
    printf("\n%s <%s:%d,%d> (%d instruction%s, %d bytes at %p)\n", f->linedefined == 0 ? "main" : "function", s,
           f->linedefined, f->lastlinedefined, ncode, plural(ncode),
           ncode * static_cast<int>(sizeof(Instruction)), static_cast<const void*>(f));
    int nlocals = static_cast<int>(f->locvars.size());
    int nk = static_cast<int>(f->k.size());
    int np = static_cast<int>(f->p.size());
    printf("%d%s param%s, %d slot%s, %d upvalue%s, ", f->numparams, f->is_vararg ? "+" : "", plural(f->numparams),
           f->maxstacksize, plural(f->maxstacksize), f->nups, plural(f->nups));
    printf("%d local%s, %d constant%s, %d function%s\n", nlocals, plural(nlocals), nk, plural(nk), np, plural(np));
  }

  void print_function(const Proto* f) {
    print_header(f);
    print_code(f);
    printf("constants (%d) for %p:\n", static_cast<int>(f->k.size()), static_cast<const void*>(f));
    for (size_t i = 0; i < f->k.size(); i++) {
      printf("\t%d\t", static_cast<int>(i) + 1);
      print_constant(f, static_cast<int>(i));
      put('\n');
    }
    printf("locals (%d) for %p:\n", static_cast<int>(f->locvars.size()), static_cast<const void*>(f));
    for (size_t i = 0; i < f->locvars.size(); i++) {
      const LocVar& lv = f->locvars[i];
      printf("\t%d\t%s\t%d\t%d\n", static_cast<int>(i), lv.name ? lv.name->c_str() : "?", lv.startpc + 1,
             lv.endpc + 1);
    }
    printf("upvalues (%d) for %p:\n", static_cast<int>(f->upvalues.size()), static_cast<const void*>(f));
    for (size_t i = 0; i < f->upvalues.size(); i++) {
      printf("\t%d\t%s\n", static_cast<int>(i), f->upvalues[i] ? f->upvalues[i]->c_str() : "?");
    }
    for (const Proto* child : f->p) print_function(child);
  }
};

}  // namespace

std::string dump_bytecode(const Proto* p) {
  Printer printer;
  printer.print_function(p);
  return printer.out;
}

}  // namespace jitvm
