// `vmtest`: builtins for tests (jitvm --test-builtins). They let outside tools
// meet the VM in a known state: the VM's own view of its Lua stack (ground
// truth for debuggers and unwinders), forced collections, code flushes and crashes.
#include <dlfcn.h>
#include <execinfo.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "crash_handler.h"
#include "jit/jit.h"
#include "vm_internal.h"

namespace jitvm {

namespace {

const char* tier_name(const CallInfo* ci) {
  switch (ci->tier) {
    case 1: return "baseline";
    case 2: return "osr";
    default: return "interp";
  }
}

std::string frame_name(const CallInfo* ci) {
  const Proto* p = ci->func->as_closure()->proto;
  if (ci->jit) return static_cast<const jit::JitCode*>(ci->jit)->info.name;
  return p->name;
}

// Writes the file atomically (temp + rename) so a reader never sees half of it.
bool write_atomically(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  size_t off = 0;
  while (off < text.size()) {
    ssize_t n = write(fd, text.data() + off, text.size() - off);
    if (n <= 0) {
      close(fd);
      unlink(tmp.c_str());
      return false;
    }
    off += static_cast<size_t>(n);
  }
  fsync(fd);
  close(fd);
  return rename(tmp.c_str(), path.c_str()) == 0;
}

int vmtest_stop_here(State* L) {
  // A debugger is about to look: all code compiled so far has its debug info.
  if (L->g->jit) L->g->jit->SyncListeners();
  std::string out;
  for (CallInfo* ci = L->ci; ci > L->base_ci; ci--) {
    if (!ci_is_lua(ci)) continue;
    out += frame_name(ci) + " " + tier_name(ci) + "\n";
  }
  const char* path = getenv("JITVM_GROUND_TRUTH");
  fflush(stdout);
  if (path && *path) {
    if (!write_atomically(path, out)) error(L, "vmtest.stop_here: cannot write '%s'", path);
  } else {
    fputs(out.c_str(), stderr);
    fflush(stderr);
  }
  raise(SIGSTOP);
  return 0;
}

// A native stack walk with backtrace(3): the symbol of each frame (dladdr), or
// "[jit] 0x..." inside the code cache. It only gets past compiled frames
// because their CFI is registered with the C++ runtime (EhFrameListener).
int vmtest_backtrace(State* L) {
  void* pcs[256];
  int n = backtrace(pcs, 256);
  Table* t = table_new(L, n, 0);
  for (int i = 0; i < n; i++) {
    uintptr_t pc = reinterpret_cast<uintptr_t>(pcs[i]);
    std::string name;
    Dl_info info;
    if (L->g->jit && L->g->jit->IsJitPc(pc)) {
      char buf[32];
      snprintf(buf, sizeof buf, "[jit] %#lx", static_cast<unsigned long>(pc));
      name = buf;
    } else if (dladdr(pcs[i], &info) && info.dli_sname) {
      name = info.dli_sname;
    } else {
      name = "?";
    }
    table_set_int(L, t, i + 1, Value::string(new_string(L, name)));
  }
  push_table(L, t);
  return 1;
}

int vmtest_throw_cpp(State* L) {
  // Not a Lua error: a plain C++ exception, which must unwind through any
  // compiled frames between here and jit_run's handler.
  throw VmtestCppException{};
}

int vmtest_gc(State* L) {
  gc_collect(L);
  return 0;
}

int vmtest_flush_jit(State* L) {
  if (L->g->jit) L->g->jit->FlushAll();
  return 0;
}

int vmtest_tier(State* L) {
  // The tier of the calling Lua function ("interp", "baseline" or "osr").
  CallInfo* ci = L->ci - 1;
  push_string(L, ci > L->base_ci && ci_is_lua(ci) ? tier_name(ci) : "interp");
  return 1;
}

// Native recursion until the guard page below the stack faults (SIGSEGV).
__attribute__((noinline)) int recurse_deep(volatile int* depth, int n) {
  volatile char pad[256];
  pad[0] = static_cast<char>(n);
  *depth = *depth + 1;
  if (n > 0) return recurse_deep(depth, n + 1) + pad[0];
  return pad[0];
}

// Faults in one of the ways of vmtest.crash (kind: index into kCrashKinds).
void crash_now(int kind) {
  switch (kind) {
    case 0:
    case 5: {  // jit-segv: compiled callers fault inline (the JIT); interpreted ones here
      volatile int* volatile p = nullptr;
      *p = 1;
      break;
    }
    case 1: abort();
    case 2: __builtin_trap();
    case 3: {
      // Both operands volatile: GCC computes 1 / x without dividing.
      volatile int one = 1, zero = 0;
      volatile int r = one / zero;
      (void)r;
      break;
    }
    case 4: {
      volatile int depth = 0;
      recurse_deep(&depth, 1);
      break;
    }
  }
}

// vmtest.crash(kind [, "thread"]): with "thread" the crash happens on a new
// thread while this one (with the Lua and JIT frames) waits in pthread_join,
// so crash handling is exercised off the VM thread too.
int vmtest_crash(State* L) {
  static const char* const kKinds[] = {"segv", "abort", "ill", "fpe", "stack-overflow", "jit-segv", nullptr};
  static const char* const kWhere[] = {"here", "thread", nullptr};
  int kind = check_option(L, 1, nullptr, kKinds);
  int where = check_option(L, 2, "here", kWhere);
  if (L->g->jit) L->g->jit->SyncListeners();  // the crash dumper reads the debug info
  fflush(stdout);
  if (where == 0) {
    crash_now(kind);
    return 0;
  }
  static int thread_kind;
  thread_kind = kind;
  pthread_t thread;
  auto body = [](void*) -> void* {
    InstallCrashAltStack();  // a stack overflow here needs somewhere to run the handler
    pthread_setname_np(pthread_self(), "vmtest-crash");  // so tombstones show which thread it was
    crash_now(thread_kind);
    return nullptr;
  };
  if (pthread_create(&thread, nullptr, body, nullptr) != 0) error(L, "vmtest.crash: cannot create a thread");
  pthread_join(thread, nullptr);
  return 0;
}

const NativeReg kVmtest[] = {
    {"stop_here", vmtest_stop_here}, {"gc", vmtest_gc},       {"flush_jit", vmtest_flush_jit},
    {"crash", vmtest_crash},         {"tier", vmtest_tier},   {"backtrace", vmtest_backtrace},
    {"throw_cpp", vmtest_throw_cpp}, {nullptr, nullptr},
};

}  // namespace

void open_vmtest(State* L) { register_lib(L, "vmtest", kVmtest); }

}  // namespace jitvm
