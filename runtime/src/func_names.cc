// Names for compiled code, "fname@chunk:line", derived from how the parent
// function stores each closure (global, local, field or method), since Lua 5.1
// bytecode has no function names of its own.
#include <set>
#include <string>

#include "opcodes.h"
#include "vm_internal.h"

namespace jitvm {

namespace {

std::string chunk_base(const String* source) {
  if (!source) return "?";
  std::string s = chunk_id(source);
  size_t slash = s.rfind('/');
  if (source->data[0] == '@' && slash != std::string::npos) s = s.substr(slash + 1);
  return s;
}

const char* active_local(const Proto* p, int reg, int pc) {
  int n = -1;
  for (const LocVar& v : p->locvars) {
    if (v.startpc > pc) break;
    if (pc < v.endpc) {
      n++;
      if (n == reg) return v.name->data;
    }
  }
  return nullptr;
}

std::string kstring(const Proto* p, int rk) {
  if (ISK(rk) && p->k[static_cast<size_t>(INDEXK(rk))].is_string()) return p->k[static_cast<size_t>(INDEXK(rk))].as_string()->str();
  return "";
}

// Name of the table in register `reg` just before `pc`, if a global or local.
std::string table_name(const Proto* p, int reg, int pc) {
  if (const char* l = active_local(p, reg, pc)) return l;
  for (int i = pc - 1; i >= 0; i--) {
    Instruction ins = p->code[static_cast<size_t>(i)];
    if (GETARG_A(ins) != reg) continue;
    if (GET_OPCODE(ins) == OP_GETGLOBAL) return p->k[static_cast<size_t>(GETARG_Bx(ins))].as_string()->str();
    break;
  }
  return "";
}

void name_children(Proto* parent, const std::string& chunk, std::set<std::string>* used) {
  for (size_t pc = 0; pc < parent->code.size(); pc++) {
    Instruction ins = parent->code[pc];
    if (GET_OPCODE(ins) != OP_CLOSURE) continue;
    Proto* child = parent->p[static_cast<size_t>(GETARG_Bx(ins))];
    int reg = GETARG_A(ins);
    size_t next = pc + 1 + child->nups;
    std::string fname;
    if (next < parent->code.size()) {
      Instruction st = parent->code[next];
      if (GET_OPCODE(st) == OP_SETGLOBAL && GETARG_A(st) == reg) {
        fname = parent->k[static_cast<size_t>(GETARG_Bx(st))].as_string()->str();
      } else if (GET_OPCODE(st) == OP_SETTABLE && GETARG_C(st) == reg) {
        std::string key = kstring(parent, GETARG_B(st));
        if (!key.empty()) {
          std::string t = table_name(parent, GETARG_A(st), static_cast<int>(next));
          bool method = child->numparams > 0 && !child->locvars.empty() && child->locvars[0].name->str() == "self";
          fname = t.empty() ? key : t + (method ? ":" : ".") + key;
        }
      }
    }
    if (fname.empty()) {
      if (const char* l = active_local(parent, reg, static_cast<int>(next))) fname = l;
    }
    if (fname.empty()) fname = "anon";
    std::string name = fname + "@" + chunk + ":" + std::to_string(child->linedefined);
    if (used->count(name)) name += "#" + std::to_string(child->id);
    used->insert(name);
    child->name = name;
    name_children(child, chunk, used);
  }
}

}  // namespace

void assign_function_names(Proto* main) {
  std::string chunk = chunk_base(main->source);
  std::set<std::string> used;
  main->name = "main@" + chunk + ":0";
  used.insert(main->name);
  name_children(main, chunk, &used);
}

}  // namespace jitvm
