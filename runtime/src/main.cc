// jitvm: run Lua 5.1 programs.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <pthread.h>

#include "crash_handler.h"
#include "dump.h"
#include "jit/eh_frame_listener.h"
#include "jit/event_log_listener.h"
#include "jit/gdb_jit_listener.h"
#include "jit/perf_listener.h"
#include "jit/jit.h"
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
    "  --jit=on|off       baseline JIT on (default) or off (interpreter only)\n"
    "  --jit-threshold=N  calls (or loop back edges) before a function is compiled;\n"
    "                     0 compiles every function before its first call (default 100)\n"
    "  --jit-frame-pointers=on|off\n"
    "                     compiled frames keep rbp as frame pointer (default on)\n"
    "  --jit-cache-size=BYTES\n"
    "                     code cache capacity (default 64 MiB); cold code is evicted when full\n"
    "  --jit-stats        print compile counts, time and code sizes at exit\n"
    "  --jit-debug=mini|full|none\n"
    "                     debug info registered for gdb/lldb (GDB JIT interface): symbols and\n"
    "                     CFI (mini, default), plus DWARF lines (full), or nothing\n"
    "  --jit-debug-pack=on|off\n"
    "                     merge the debug info of each 64 KiB code range every 64 new functions (on)\n"
    "  --jit-debug-compress=on|off|always\n"
    "                     xz-compress packed groups after code GC except the newest (on), never,\n"
    "                     or every packed group at once (always); 'on' also compresses all\n"
    "                     but the newest range once no code was loaded for a while:\n"
    "  --jit-debug-compress-idle=MS\n"
    "                     that while, in milliseconds (default 1000; 0: only after code GC)\n"
    "  --jit-event-log=FILE  write one line per code load and free (CLOCK_MONOTONIC ns)\n"
    "  --perf-map         append 'START SIZE name' for every code load to /tmp/perf-PID.map\n"
    "                     (the code cache is then anonymous memory, where perf looks maps up)\n"
    "  --jitdump[=DIR]    write DIR/jit-PID.dump (default DIR: .) for perf inject --jit:\n"
    "                     code, Lua lines and unwind info of every load; record with perf -k 1\n"
    "  --crash-handler=on|off\n"
    "                     on a fatal signal, write a tombstone to $JITSCOPE_TOMBSTONE_DIR\n"
    "                     (default ./tombstones) with `jitscope crash-dump` (on, default)\n"
    "  --test-builtins    add the global table 'vmtest' (stop_here, gc, flush_jit, crash, tier,\n"
    "                     backtrace, throw_cpp)\n"
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


bool parse_size(const char* s, size_t* out) {
  char* end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || end == s) return false;
  if (*end == 'k' || *end == 'K') v <<= 10, end++;
  else if (*end == 'm' || *end == 'M') v <<= 20, end++;
  else if (*end == 'g' || *end == 'G') v <<= 30, end++;
  if (*end) return false;
  *out = static_cast<size_t>(v);
  return true;
}

int real_main(int argc, char** argv);

struct MainArgs {
  int argc;
  char** argv;
  int status;
};

}  // namespace

// The VM runs on a thread with a large stack so that deep recursion through
// compiled code (native frames) reaches Lua's own "stack overflow" limit long
// before the native stack ends.
int main(int argc, char** argv) {
  constexpr size_t kVmStackSize = size_t{1} << 30;  // reserved, committed only as touched
  MainArgs args{argc, argv, 0};
  // The process's first thread only joins, but a signal sent to the process
  // may land on it: give it a stack to handle that on too.
  InstallCrashAltStack();
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, kVmStackSize);
  pthread_t thread;
  auto body = [](void* p) -> void* {
    MainArgs* a = static_cast<MainArgs*>(p);
    a->status = real_main(a->argc, a->argv);
    return nullptr;
  };
  if (pthread_create(&thread, &attr, body, &args) != 0) {
    // Fall back to the main thread's stack.
    return real_main(argc, argv);
  }
  pthread_join(thread, nullptr);
  return args.status;
}

namespace {

int real_main(int argc, char** argv) {
  std::vector<const char*> exprs;
  jit::JitOptions jit_options;
  bool test_builtins = false;
  std::string event_log_path;
  bool perf_map = false;
  bool jitdump = false;
  std::string jitdump_dir = ".";
  jit::DebugInfoMode debug_mode = jit::DebugInfoMode::kMini;
  jitscope::JitDebugOptions debug_options;
  std::chrono::milliseconds idle_compress = jit::GdbJitListener::kDefaultIdleCompress;
  bool dump = false;
  bool crash_handler = true;
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
      jit_options.enabled = strcmp(a, "--jit=on") == 0;
    } else if (strncmp(a, "--jit-threshold=", 16) == 0) {
      char* end;
      long v = strtol(a + 16, &end, 10);
      if (*end || end == a + 16 || v < 0 || v > 1000000000) {
        fprintf(stderr, "jitvm: invalid value in '%s' (expected a count >= 0)\n", a);
        return 2;
      }
      jit_options.threshold = static_cast<int>(v);
    } else if (strcmp(a, "--jit-frame-pointers=on") == 0 || strcmp(a, "--jit-frame-pointers=off") == 0) {
      jit_options.frame_pointers = strcmp(a, "--jit-frame-pointers=on") == 0;
    } else if (strncmp(a, "--jit-cache-size=", 17) == 0) {
      if (!parse_size(a + 17, &jit_options.cache_size)) {
        fprintf(stderr, "jitvm: invalid value in '%s' (expected bytes, optionally with K, M or G)\n", a);
        return 2;
      }
    } else if (strcmp(a, "--jit-stats") == 0) {
      jit_options.stats = true;
    } else if (strncmp(a, "--jit-debug=", 12) == 0) {
      const char* m = a + 12;
      if (strcmp(m, "mini") == 0) debug_mode = jit::DebugInfoMode::kMini;
      else if (strcmp(m, "full") == 0) debug_mode = jit::DebugInfoMode::kFull;
      else if (strcmp(m, "none") == 0) debug_mode = jit::DebugInfoMode::kNone;
      else {
        fprintf(stderr, "jitvm: invalid value in '%s' (expected mini, full or none)\n", a);
        return 2;
      }
    } else if (strcmp(a, "--jit-debug-pack=on") == 0 || strcmp(a, "--jit-debug-pack=off") == 0) {
      debug_options.pack = strcmp(a, "--jit-debug-pack=on") == 0;
    } else if (strncmp(a, "--jit-debug-compress=", 21) == 0) {
      const char* m = a + 21;
      if (strcmp(m, "on") == 0) debug_options.compress = jitscope::CompressPolicy::kAfterFree;
      else if (strcmp(m, "off") == 0) debug_options.compress = jitscope::CompressPolicy::kOff;
      else if (strcmp(m, "always") == 0) debug_options.compress = jitscope::CompressPolicy::kAlways;
      else {
        fprintf(stderr, "jitvm: invalid value in '%s' (expected on, off or always)\n", a);
        return 2;
      }
    } else if (strncmp(a, "--jit-debug-compress-idle=", 26) == 0) {
      char* end;
      long ms = strtol(a + 26, &end, 10);
      if (*end || end == a + 26 || ms < 0 || ms > 24L * 3600 * 1000) {
        fprintf(stderr, "jitvm: invalid value in '%s' (expected milliseconds, at most a day)\n", a);
        return 2;
      }
      idle_compress = std::chrono::milliseconds(ms);
    } else if (strncmp(a, "--jit-event-log=", 16) == 0) {
      event_log_path = a + 16;
      if (event_log_path.empty()) {
        fprintf(stderr, "jitvm: '--jit-event-log=' needs a file name\n");
        return 2;
      }
    } else if (strcmp(a, "--perf-map") == 0) {
      perf_map = true;
    } else if (strcmp(a, "--jitdump") == 0) {
      jitdump = true;
    } else if (strncmp(a, "--jitdump=", 10) == 0) {
      jitdump = true;
      jitdump_dir = a + 10;
      if (jitdump_dir.empty()) {
        fprintf(stderr, "jitvm: '--jitdump=' needs a directory\n");
        return 2;
      }
    } else if (strcmp(a, "--crash-handler=on") == 0 || strcmp(a, "--crash-handler=off") == 0) {
      crash_handler = strcmp(a, "--crash-handler=on") == 0;
    } else if (strcmp(a, "--test-builtins") == 0) {
      test_builtins = true;
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

  // Before the JIT starts its threads: they inherit nothing, but the handler
  // must be in place before any compiled code can fault.
  if (crash_handler) InstallCrashHandler();
  State* L = state_new();
  if (!L) {
    fprintf(stderr, "jitvm: cannot create state: not enough memory\n");
    return 1;
  }
  {
    // Native stack bound of this thread, less a margin for natives and helpers.
    constexpr size_t kStackMargin = 256 * 1024;
    pthread_attr_t attr;
    void* lo = nullptr;
    size_t size = 0;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
      pthread_attr_getstack(&attr, &lo, &size);
      pthread_attr_destroy(&attr);
      if (lo && size > 2 * kStackMargin) L->c_stack_limit = reinterpret_cast<uintptr_t>(lo) + kStackMargin;
    }
  }
  std::unique_ptr<jit::EventLog> event_log;  // outlives its listeners and the JIT
  std::unique_ptr<jit::EventLogListener> log_loads, log_frees;
  if (!event_log_path.empty()) {
    std::string err;
    event_log = jit::EventLog::Open(event_log_path, &err);
    if (!event_log) {
      fprintf(stderr, "jitvm: --jit-event-log: %s\n", err.c_str());
      return 2;
    }
    log_loads = std::make_unique<jit::EventLogListener>(event_log.get(), jit::EventLogListener::Role::kLoads);
    log_frees = std::make_unique<jit::EventLogListener>(event_log.get(), jit::EventLogListener::Role::kFrees);
  }
  std::unique_ptr<jit::PerfMapListener> perf_map_listener;
  std::unique_ptr<jit::JitdumpListener> jitdump_listener;
  if (perf_map && jit_options.enabled && !dump) {
    std::string err;
    auto writer = jitscope::perf::PerfMapWriter::Open(&err);
    if (!writer) {
      fprintf(stderr, "jitvm: --perf-map: %s\n", err.c_str());
      return 2;
    }
    perf_map_listener = std::make_unique<jit::PerfMapListener>(std::move(writer));
    jit_options.anonymous_code = true;
  }
  if (jitdump && jit_options.enabled && !dump) {
    std::string err;
    auto writer = jitscope::perf::JitdumpWriter::Create(jitdump_dir, &err);
    if (!writer) {
      fprintf(stderr, "jitvm: --jitdump: %s\n", err.c_str());
      return 2;
    }
    jitdump_listener = std::make_unique<jit::JitdumpListener>(std::move(writer));
    jit_options.unique_code = true;
  }
  std::unique_ptr<jit::GdbJitListener> gdb_listener;  // outlives the JIT (it hears the final frees)
  std::unique_ptr<jit::EhFrameListener> eh_listener;
  std::unique_ptr<jit::Jit> jit;
  if (jit_options.enabled && !dump) {
    std::string err;
    jit = jit::Jit::Create(L, jit_options, &err);
    if (!jit) {
      fprintf(stderr, "jitvm: JIT disabled: %s\n", err.c_str());
    } else {
      L->g->jit = jit.get();
      if (log_loads) jit->AddListener(log_loads.get());  // first: logged before registration
      eh_listener = std::make_unique<jit::EhFrameListener>(jit->cache());
      jit->AddListener(eh_listener.get());
      if (debug_mode != jit::DebugInfoMode::kNone) {
        debug_options.full = debug_mode == jit::DebugInfoMode::kFull;
        gdb_listener = std::make_unique<jit::GdbJitListener>(debug_options, jit->cache(), idle_compress);
        jit->AddListener(gdb_listener.get());
      }
      if (perf_map_listener) jit->AddListener(perf_map_listener.get());
      if (jitdump_listener) jit->AddListener(jitdump_listener.get());
      if (log_frees) jit->AddListener(log_frees.get());  // last: logged after unregistration
    }
  }
  if (script && !read_stdin) {
    std::string path = argv[script];
    size_t slash = path.rfind('/');
    L->g->script_dir = slash == std::string::npos ? "." : path.substr(0, slash);
  }
  L->g->register_sources = debug_mode != jit::DebugInfoMode::kNone;
  open_all_libs(L);
  if (test_builtins) open_vmtest(L);

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
  if (jit) {
    if (jit_options.stats) {
      jit->PrintStats(stderr);
      if (gdb_listener) {
        jitscope::JitDebugStats d = gdb_listener->stats();
        fprintf(stderr,
                "jit: debug info: %llu entries for %llu functions; %llu bytes unpacked, %llu packed, %llu compressed; "
                "%llu packs, %llu compressions, %.2f ms building\n",
                (unsigned long long)d.entries, (unsigned long long)d.functions, (unsigned long long)d.unpacked_bytes,
                (unsigned long long)d.packed_bytes, (unsigned long long)d.compressed_bytes, (unsigned long long)d.packs,
                (unsigned long long)d.compressions, static_cast<double>(d.build_ns) / 1e6);
      }
    }
    L->g->jit = nullptr;
    jit.reset();
  }
  if (jitdump_listener) jitdump_listener->Close();
  state_close(L);
  return status ? 1 : 0;
}

}  // namespace
