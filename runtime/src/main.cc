// jitvm: run Lua 5.1 programs.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "dump.h"
#include "vm_internal.h"

using namespace jitvm;

namespace {

const char kUsage[] =
    "usage: jitvm [options] [script.lua [args...]]\n"
    "Runs a Lua 5.1 program.\n"
    "\n"
    "options:\n"
    "  -e CODE            run the string CODE (may be repeated; runs before the script)\n"
    "  -                  run standard input\n"
    "  --dump-bytecode    print the bytecode of every function of the script and exit\n"
    "  --jit=on|off       JIT tier on (default) or off; the JIT tier is not built yet,\n"
    "                     so both run the interpreter today\n"
    "  -v, --version      print the version\n"
    "  -h, --help         print this help\n";

const char* g_progname = "jitvm";

int traceback_handler(State* L) {
  const Value& msg = arg(L, 1);
  if (!msg.is_string() && !msg.is_number()) {
    push(L, msg);
    return 1;
  }
  std::string s = to_string_coerce(L, msg)->str();
  // Level 1 is this handler; start at the function that raised.
  s += "\n" + traceback(L, 1);
  push_string(L, s);
  return 1;
}

void report(State* L, int status) {
  if (status == 0) return;
  const Value& v = L->top[-1];
  const char* msg = nullptr;
  std::string tmp;
  if (v.is_string()) {
    msg = v.as_string()->data;
  } else if (v.is_number()) {
    tmp = to_string_coerce(L, v)->str();
    msg = tmp.c_str();
  } else {
    msg = "(error object is not a string)";
  }
  fflush(stdout);
  fprintf(stderr, "%s: %s\n", g_progname, msg);
  fflush(stderr);
  L->top--;
}

// Runs the function at top-1-nargs with nargs arguments under the traceback handler.
int docall(State* L, int nargs) {
  Value* func = L->top - nargs - 1;
  // Put the handler below the function so it stays reachable.
  for (Value* p = L->top; p > func; p--) *p = p[-1];
  *func = Value::function(new_native(L, traceback_handler, "traceback"));
  L->top++;
  Value handler = *func;
  int status = vm_pcall(L, func + 1, kMultRet, &handler);
  // Drop the handler slot.
  Value* hslot = func;
  for (Value* p = hslot; p + 1 < L->top; p++) *p = p[1];
  L->top--;
  return status;
}

int dostring(State* L, const char* code, const char* name) {
  int status = load_buffer(L, code, strlen(code), name);
  if (status == 0) status = docall(L, 0);
  report(L, status);
  return status;
}

void dump_all(const Proto* p) { fputs(dump_bytecode(p).c_str(), stdout); }

}  // namespace

int main(int argc, char** argv) {
  std::vector<const char*> exprs;
  bool dump = false;
  int script = 0;
  bool read_stdin = false;
  for (int i = 1; i < argc; i++) {
    const char* a = argv[i];
    if (strcmp(a, "-e") == 0) {
      if (i + 1 >= argc) {
        fprintf(stderr, "jitvm: '-e' needs an argument\n%s", kUsage);
        return 2;
      }
      exprs.push_back(argv[++i]);
    } else if (strncmp(a, "-e", 2) == 0 && a[2]) {
      exprs.push_back(a + 2);
    } else if (strcmp(a, "--dump-bytecode") == 0) {
      dump = true;
    } else if (strcmp(a, "--jit=on") == 0 || strcmp(a, "--jit=off") == 0) {
      // Accepted now so scripts and benchmarks keep working when the JIT tier lands.
    } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      fputs(kUsage, stdout);
      return 0;
    } else if (strcmp(a, "-v") == 0 || strcmp(a, "--version") == 0) {
      printf("jitvm 0.1 (Lua 5.1 compatible)\n");
      return 0;
    } else if (strcmp(a, "-") == 0) {
      read_stdin = true;
      script = i;
      break;
    } else if (strcmp(a, "--") == 0) {
      if (i + 1 < argc) script = i + 1;
      break;
    } else if (a[0] == '-') {
      fprintf(stderr, "jitvm: unrecognized option '%s'\n%s", a, kUsage);
      return 2;
    } else {
      script = i;
      break;
    }
  }
  if (!script && exprs.empty() && !dump) {
    if (isatty(0)) {
      fputs(kUsage, stderr);
      return 2;
    }
    read_stdin = true;
  }

  State* L = state_new();
  if (!L) {
    fprintf(stderr, "jitvm: cannot create state: not enough memory\n");
    return 1;
  }
  if (script && !read_stdin) {
    std::string path = argv[script];
    size_t slash = path.rfind('/');
    L->g->script_dir = slash == std::string::npos ? "." : path.substr(0, slash);
  }
  open_all_libs(L);

  // The global `arg`: script at 0, its arguments at 1.., interpreter and options below 0.
  {
    Table* t = table_new(L, 0, 0);
    int base = script ? script : argc;
    for (int i = 0; i < argc; i++)
      table_set_int(L, t, i - base, Value::string(new_string(L, argv[i], strlen(argv[i]))));
    set_field(L, L->globals.as_table(), "arg", Value::table(t));
  }

  int status = 0;
  if (dump) {
    if (!script || read_stdin) {
      fprintf(stderr, "jitvm: --dump-bytecode needs a script file\n");
      state_close(L);
      return 2;
    }
    if (load_file(L, argv[script]) != 0) {
      report(L, 1);
      state_close(L);
      return 1;
    }
    dump_all(L->top[-1].as_closure()->proto);
    fflush(stdout);
    state_close(L);
    return 0;
  }
  for (const char* e : exprs) {
    status = dostring(L, e, "=(command line)");
    if (status) break;
  }
  if (!status && (script || read_stdin)) {
    const char* path = read_stdin ? nullptr : argv[script];
    status = load_file(L, path);
    if (status == 0) {
      int n = 0;
      for (int i = script + 1; i < argc; i++, n++) push_string(L, argv[i]);
      status = docall(L, n);
    }
    report(L, status);
  }
  fflush(stdout);
  state_close(L);
  return status ? 1 : 0;
}
