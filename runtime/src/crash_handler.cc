// The crash handler. Only async-signal-safe calls below the "handler" line:
// raw system calls (open, write, read, poll, pipe2, dup2, execve, prctl,
// process_vm_readv, rename...), no malloc, no stdio, no locks, no C++
// runtime. Protocol with the dumper and the minimal tombstone format are
// described in docs/tombstones.md.
#include "crash_handler.h"

#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "jitscope/jit_debug.h"

extern char** environ;

namespace jitvm {
namespace {

constexpr int kCrashSignals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS};
// Room for the handler, the fallback writer's locals and a frame-pointer
// walk, with a margin; SIGSTKSZ (8 KiB) is too small for that.
constexpr size_t kAltStackSize = 128 * 1024;
// A dumper that takes longer is stuck (e.g. it cannot ptrace us): give up,
// kill it and write the minimal tombstone ourselves. 10,000 compiled
// functions take well under a second; slow CI machines get the margin.
// $JITSCOPE_CRASH_DUMP_TIMEOUT_MS overrides it within these bounds.
constexpr int kDefaultDumperTimeoutMs = 20000;
constexpr long kMinDumperTimeoutMs = 10;
constexpr long kMaxDumperTimeoutMs = 600000;
// Threads that crash while another thread is dumping wait this long for the
// process to die before re-raising their own signal.
constexpr int kOtherThreadExtraWaitMs = 10000;
// Bounds of the in-process fallback: frames walked, JIT entries scanned,
// symbols read per entry, bytes of text and JSON.
constexpr int kMaxFallbackFrames = 64;
constexpr int kMaxFallbackEntries = 1 << 17;
constexpr uint64_t kMaxSymbolsPerEntry = 1 << 16;
constexpr size_t kFallbackTextSize = 64 * 1024;
constexpr size_t kFallbackJsonSize = 64 * 1024;
constexpr size_t kMaxNameSize = 160;
// JIT code ranges the fallback remembers to recognise return addresses
// when the frame chain starts in native code without frame pointers.
constexpr size_t kMaxJitRanges = 8192;
// How far above sp the fallback looks for the first frame record whose
// return address is JIT code (the native frames of a helper in between).
constexpr uint64_t kStackScanBytes = 16 * 1024;

bool g_installed = false;
int g_dumper_timeout_ms = kDefaultDumperTimeoutMs;
char g_dumper_path[PATH_MAX];
char g_tombstone_dir[PATH_MAX];
std::atomic<int> g_crashing_tid{0};
// Only the crashing thread (the one that won g_crashing_tid) touches these.
char g_text[kFallbackTextSize];
char g_json[kFallbackJsonSize];
struct CodeRange {
  uint64_t start, end;
};
CodeRange g_jit_ranges[kMaxJitRanges];
// /proc/self/maps at the crash, so an offline reader can name native modules.
constexpr size_t kMapsTextSize = 128 * 1024;
char g_maps[kMapsTextSize];
size_t g_jit_range_count;

struct AltStack {
  void* base = nullptr;
  ~AltStack() {
    if (!base) return;
    stack_t ss{};
    ss.ss_flags = SS_DISABLE;
    sigaltstack(&ss, nullptr);
    munmap(base, kAltStackSize);
  }
};
thread_local AltStack t_alt_stack;

// ---------------------------------------------------------------- handler --

// A fixed buffer that formats without allocating; silently truncates.
class SafeWriter {
 public:
  SafeWriter(char* buf, size_t cap) : buf_(buf), cap_(cap) {}
  void Str(const char* s) {
    while (*s) Char(*s++);
  }
  void Char(char c) {
    if (len_ + 1 < cap_) buf_[len_++] = c;
  }
  void Hex(uint64_t v, int width = 0) {
    char tmp[16];
    int n = 0;
    do {
      tmp[n++] = "0123456789abcdef"[v & 0xf];
      v >>= 4;
    } while (v && n < 16);
    for (int i = n; i < width; i++) Char('0');
    while (n) Char(tmp[--n]);
  }
  void Addr(uint64_t v) {
    Str("0x");
    Hex(v);
  }
  void Dec(int64_t v) {
    if (v < 0) {
      Char('-');
      v = -v;
    }
    char tmp[20];
    int n = 0;
    uint64_t u = static_cast<uint64_t>(v);
    do {
      tmp[n++] = static_cast<char>('0' + u % 10);
      u /= 10;
    } while (u);
    while (n) Char(tmp[--n]);
  }
  void JsonString(const char* s) {
    Char('"');
    for (; *s; s++) {
      unsigned char c = static_cast<unsigned char>(*s);
      if (c == '"' || c == '\\') {
        Char('\\');
        Char(static_cast<char>(c));
      } else if (c < 0x20) {
        Str("\\u00");
        Hex(c, 2);
      } else {
        Char(static_cast<char>(c));
      }
    }
    Char('"');
  }
  const char* data() const { return buf_; }
  size_t size() const { return len_; }
  void Terminate() { buf_[len_ < cap_ ? len_ : cap_ - 1] = 0; }

 private:
  char* buf_;
  size_t cap_;
  size_t len_ = 0;
};

uint64_t Now(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

pid_t Gettid() { return static_cast<pid_t>(syscall(SYS_gettid)); }

// Reads our own memory through the kernel so that a bad pointer (a corrupt
// frame chain, a hostile descriptor) is a failed read, not a second fault.
bool SafeRead(uint64_t addr, void* dst, size_t n) {
  iovec local{dst, n};
  iovec remote{reinterpret_cast<void*>(addr), n};
  return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == static_cast<ssize_t>(n);
}

bool WriteAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// Reads a small /proc file into buf (NUL-terminated, trailing newline cut).
void ReadSmallFile(const char* path, char* buf, size_t cap) {
  buf[0] = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ssize_t n = read(fd, buf, cap - 1);
  close(fd);
  if (n <= 0) return;
  for (ssize_t i = 0; i < n; i++)
    if (buf[i] == 0) buf[i] = ' ';  // cmdline separators
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ')) n--;
  buf[n] = 0;
}

// mkdir -p without allocating.
void MakeDirs(const char* path) {
  char tmp[PATH_MAX];
  size_t n = strlen(path);
  if (n >= sizeof(tmp)) return;
  memcpy(tmp, path, n + 1);
  for (size_t i = 1; i <= n; i++) {
    if (tmp[i] == '/' || tmp[i] == 0) {
      char saved = tmp[i];
      tmp[i] = 0;
      mkdir(tmp, 0755);
      tmp[i] = saved;
    }
  }
}

const char* SignalName(int sig) {
  switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGILL: return "SIGILL";
    case SIGFPE: return "SIGFPE";
    case SIGABRT: return "SIGABRT";
    case SIGTRAP: return "SIGTRAP";
    case SIGSYS: return "SIGSYS";
    default: return "?";
  }
}

struct CrashContext {
  int sig;
  siginfo_t* info;
  ucontext_t* uc;
  pid_t pid;
  pid_t tid;
  uint64_t signal_ns;
  char path[PATH_MAX];  // the tombstone
};

// Starts the dumper and waits for it. True if it reported success.
bool RunDumper(const CrashContext& c, const char** failure) {
  if (!g_dumper_path[0]) {
    *failure = "no dumper configured";
    return false;
  }
  int req[2], status[2];
  if (pipe2(req, O_CLOEXEC) != 0) {
    *failure = "pipe2 failed";
    return false;
  }
  if (pipe2(status, O_CLOEXEC) != 0) {
    close(req[0]);
    close(req[1]);
    *failure = "pipe2 failed";
    return false;
  }
  // A raw clone, not fork(): glibc's fork runs atfork handlers that take
  // malloc's locks, which the crashed thread may hold.
  long child = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
  if (child == 0) {
    // The child: move the pipe ends out of the way before placing them at 0 and 3.
    int in = fcntl(req[0], F_DUPFD, 10);
    int out = fcntl(status[1], F_DUPFD, 10);
    dup2(in, 0);
    dup2(out, 3);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    char arg0[] = "jitscope", arg1[] = "crash-dump", arg2[] = "--status-fd=3";
    char* argv[] = {arg0, arg1, arg2, nullptr};
    execve(g_dumper_path, argv, environ);
    _exit(127);
  }
  close(req[0]);
  close(status[1]);
  if (child < 0) {
    close(req[1]);
    close(status[0]);
    *failure = "clone failed";
    return false;
  }
  // Yama's ptrace_scope=1 only lets ancestors trace: name the dumper explicitly.
  prctl(PR_SET_PTRACER, static_cast<unsigned long>(child), 0, 0, 0);

  SafeWriter m(g_json, sizeof(g_json));
  m.Str("jitscope-crash 1\npid=");
  m.Dec(c.pid);
  m.Str("\ntid=");
  m.Dec(c.tid);
  m.Str("\nsignal=");
  m.Dec(c.sig);
  m.Str("\ncode=");
  m.Dec(c.info ? c.info->si_code : 0);
  m.Str("\nfault_address=");
  m.Addr(c.info ? reinterpret_cast<uint64_t>(c.info->si_addr) : 0);
  m.Str("\nsiginfo=");
  m.Addr(reinterpret_cast<uint64_t>(c.info));
  m.Str("\nucontext=");
  m.Addr(reinterpret_cast<uint64_t>(c.uc));
  m.Str("\nsignal_time_ns=");
  m.Dec(static_cast<int64_t>(c.signal_ns));
  m.Str("\ntombstone=");
  m.Str(c.path);
  m.Str("\nend\n");
  {
    // A dumper that died at once (exec failed) closed the pipe: the write
    // must fail with EPIPE, not kill us with SIGPIPE before the fallback.
    sigset_t pipe_set, old_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigprocmask(SIG_BLOCK, &pipe_set, &old_set);
    WriteAll(req[1], m.data(), m.size());
    sigset_t pending;
    sigemptyset(&pending);
    if (sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE)) {
      timespec zero{0, 0};
      syscall(SYS_rt_sigtimedwait, &pipe_set, nullptr, &zero, _NSIG / 8);
    }
    sigprocmask(SIG_SETMASK, &old_set, nullptr);
  }
  close(req[1]);

  bool ok = false;
  uint64_t deadline = Now(CLOCK_MONOTONIC) + static_cast<uint64_t>(g_dumper_timeout_ms) * 1000000u;
  for (;;) {
    uint64_t now = Now(CLOCK_MONOTONIC);
    if (now >= deadline) {
      *failure = "the dumper timed out";
      break;
    }
    pollfd p{status[0], POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>((deadline - now) / 1000000u) + 1);
    if (r < 0 && errno == EINTR) continue;  // the dumper's PTRACE_INTERRUPT
    if (r <= 0) continue;
    char byte = 0;
    ssize_t n = read(status[0], &byte, 1);
    if (n < 0 && errno == EINTR) continue;
    ok = n == 1 && byte == 'k';
    if (!ok) *failure = "the dumper failed (see its message above)";
    break;
  }
  close(status[0]);
  if (!ok) kill(static_cast<pid_t>(child), SIGKILL);
  int wstatus = 0;
  while (waitpid(static_cast<pid_t>(child), &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (!ok && WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 127) *failure = "the dumper could not be started";
  return ok;
}

// gregs in the order of struct user_regs_struct (what the tombstone stores).
struct RegName {
  const char* name;
  int greg;  // -1: not in the ucontext
};
constexpr RegName kRegs[] = {
    {"r15", REG_R15}, {"r14", REG_R14}, {"r13", REG_R13}, {"r12", REG_R12},  {"rbp", REG_RBP},   {"rbx", REG_RBX},
    {"r11", REG_R11}, {"r10", REG_R10}, {"r9", REG_R9},   {"r8", REG_R8},    {"rax", REG_RAX},   {"rcx", REG_RCX},
    {"rdx", REG_RDX}, {"rsi", REG_RSI}, {"rdi", REG_RDI}, {"orig_rax", -1},  {"rip", REG_RIP},   {"cs", -1},
    {"eflags", REG_EFL}, {"rsp", REG_RSP}, {"ss", -1},    {"fs_base", -1},   {"gs_base", -1},    {"ds", -1},
    {"es", -1},       {"fs", -1},       {"gs", -1},
};

struct Frame {
  uint64_t pc;
  uint64_t sp;
  char name[kMaxNameSize];  // JIT symbol, or empty
  uint64_t start, end;      // its range
};

// Finds the JIT symbols of the frames' pcs in one pass over the descriptor:
// the handler cannot build an index, and a pass per frame would cost a
// system call per entry per frame.
int ResolveJitFrames(Frame* frames, int n, uint64_t* entries_seen) {
  jit_descriptor d;
  *entries_seen = 0;
  if (!SafeRead(reinterpret_cast<uint64_t>(&__jit_debug_descriptor), &d, sizeof(d))) return 0;
  int resolved = 0;
  uint64_t addr = reinterpret_cast<uint64_t>(d.first_entry);
  for (int i = 0; addr && i < kMaxFallbackEntries && resolved < n; i++) {
    jit_code_entry e;
    if (!SafeRead(addr, &e, sizeof(e))) break;
    addr = reinterpret_cast<uint64_t>(e.next);
    ++*entries_seen;
    if (e.seqlock & 1) continue;  // being changed: its file may be torn
    uint64_t file = reinterpret_cast<uint64_t>(e.symfile_addr);
    Elf64_Ehdr eh;
    if (!SafeRead(file, &eh, sizeof(eh)) || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) continue;
    if (eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shnum == 0 || eh.e_shnum > 64) continue;
    Elf64_Shdr sh[64];
    if (!SafeRead(file + eh.e_shoff, sh, sizeof(Elf64_Shdr) * eh.e_shnum)) continue;
    for (int s = 0; s < eh.e_shnum; s++) {
      // The code range (.text NOBITS): catches compressed groups, whose
      // symbols are inside .gnu_debugdata where the handler cannot look.
      if (sh[s].sh_type == SHT_NOBITS && (sh[s].sh_flags & SHF_EXECINSTR)) {
        for (int f = 0; f < n; f++)
          if (frames[f].end == 0 && frames[f].pc >= sh[s].sh_addr && frames[f].pc < sh[s].sh_addr + sh[s].sh_size) {
            frames[f].start = sh[s].sh_addr;
            frames[f].end = sh[s].sh_addr + sh[s].sh_size;
            memcpy(frames[f].name, "(jit code)", 11);
          }
      }
      if (sh[s].sh_type != SHT_SYMTAB || sh[s].sh_link >= eh.e_shnum) continue;
      const Elf64_Shdr& str = sh[sh[s].sh_link];
      uint64_t count = sh[s].sh_size / sizeof(Elf64_Sym);
      if (count > kMaxSymbolsPerEntry) count = kMaxSymbolsPerEntry;
      for (uint64_t k = 0; k < count; k += 32) {
        Elf64_Sym syms[32];
        uint64_t chunk = count - k < 32 ? count - k : 32;
        if (!SafeRead(file + sh[s].sh_offset + k * sizeof(Elf64_Sym), syms, chunk * sizeof(Elf64_Sym))) break;
        for (uint64_t j = 0; j < chunk; j++) {
          const Elf64_Sym& sym = syms[j];
          if (ELF64_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_size == 0) continue;
          for (int f = 0; f < n; f++) {
            if (frames[f].pc < sym.st_value || frames[f].pc >= sym.st_value + sym.st_size) continue;
            if (frames[f].name[0] && frames[f].name[0] != '(') continue;  // newest entry first: keep it
            char name[kMaxNameSize] = {};
            if (!SafeRead(file + str.sh_offset + sym.st_name, name, sizeof(name) - 1)) {
              // The name may end near the end of the file: read byte by byte.
              for (size_t b = 0; b + 1 < sizeof(name); b++)
                if (!SafeRead(file + str.sh_offset + sym.st_name + b, &name[b], 1) || !name[b]) break;
            }
            name[sizeof(name) - 1] = 0;
            memcpy(frames[f].name, name, sizeof(name));
            frames[f].start = sym.st_value;
            frames[f].end = sym.st_value + sym.st_size;
            resolved++;
          }
        }
      }
    }
  }
  return resolved;
}

// Every JIT code range (the .text NOBITS section of each registered file).
void CollectJitRanges() {
  g_jit_range_count = 0;
  jit_descriptor d;
  if (!SafeRead(reinterpret_cast<uint64_t>(&__jit_debug_descriptor), &d, sizeof(d))) return;
  uint64_t addr = reinterpret_cast<uint64_t>(d.first_entry);
  for (int i = 0; addr && i < kMaxFallbackEntries && g_jit_range_count < kMaxJitRanges; i++) {
    jit_code_entry e;
    if (!SafeRead(addr, &e, sizeof(e))) break;
    addr = reinterpret_cast<uint64_t>(e.next);
    if (e.seqlock & 1) continue;
    uint64_t file = reinterpret_cast<uint64_t>(e.symfile_addr);
    Elf64_Ehdr eh;
    if (!SafeRead(file, &eh, sizeof(eh)) || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) continue;
    if (eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shnum == 0 || eh.e_shnum > 64) continue;
    Elf64_Shdr sh[64];
    if (!SafeRead(file + eh.e_shoff, sh, sizeof(Elf64_Shdr) * eh.e_shnum)) continue;
    for (int s = 0; s < eh.e_shnum && g_jit_range_count < kMaxJitRanges; s++)
      if (sh[s].sh_type == SHT_NOBITS && (sh[s].sh_flags & SHF_EXECINSTR))
        g_jit_ranges[g_jit_range_count++] = {sh[s].sh_addr, sh[s].sh_addr + sh[s].sh_size};
  }
}

bool InJitCode(uint64_t pc) {
  for (size_t i = 0; i < g_jit_range_count; i++)
    if (pc >= g_jit_ranges[i].start && pc < g_jit_ranges[i].end) return true;
  return false;
}

// The in-process fallback: a minimal tombstone with what the ucontext and
// our own memory give, written with raw write(2).
void WriteMinimalTombstone(const CrashContext& c, const char* why) {
  const mcontext_t* mc = c.uc ? &c.uc->uc_mcontext : nullptr;
  auto greg = [mc](int r) -> uint64_t { return mc ? static_cast<uint64_t>(mc->gregs[r]) : 0; };

  // A bounded frame-pointer walk: compiled Lua code keeps rbp chains; native
  // code may not, so every step must move up the stack and stay close.
  constexpr uint64_t kMaxFrameSize = 1 << 20;
  Frame frames[kMaxFallbackFrames];
  bool scanned[kMaxFallbackFrames];
  memset(frames, 0, sizeof(frames));
  memset(scanned, 0, sizeof(scanned));
  int n = 0;
  frames[n].pc = greg(REG_RIP);
  frames[n++].sp = greg(REG_RSP);
  CollectJitRanges();
  uint64_t fp = greg(REG_RBP), sp = greg(REG_RSP);
  auto plausible = [&](uint64_t f, uint64_t s) { return f >= s && f - s <= kMaxFrameSize && !(f & 7); };
  // Native code built without frame pointers (a helper the JIT called)
  // leaves rbp as a general register: then look up the stack for the first
  // frame record (saved rbp, return address into JIT code) and walk on from it.
  if (!InJitCode(frames[0].pc)) {
    uint64_t pair[2];
    if (!plausible(fp, sp) || !SafeRead(fp, pair, sizeof(pair)) || !InJitCode(pair[1])) {
      // First the return address into the JIT function that called native
      // code (its callee saved rbp wherever it liked), then that function's
      // own frame record, from which the rbp chain goes on.
      uint64_t slot = (sp + 7) & ~uint64_t{7};
      for (; slot < sp + kStackScanBytes; slot += 8) {
        uint64_t word = 0;
        if (!SafeRead(slot, &word, sizeof(word))) break;
        if (InJitCode(word)) {
          frames[n].pc = word;
          scanned[n] = true;
          frames[n++].sp = slot + 8;
          sp = slot + 8;
          break;
        }
      }
      for (slot = sp; n > 1 && slot < sp + kStackScanBytes; slot += 8) {
        if (!SafeRead(slot, pair, sizeof(pair))) break;
        if (InJitCode(pair[1]) && plausible(pair[0], slot + 16)) {
          fp = slot;
          break;
        }
      }
    }
  }
  while (n < kMaxFallbackFrames) {
    if (!plausible(fp, sp)) break;
    uint64_t pair[2];
    if (!SafeRead(fp, pair, sizeof(pair)) || pair[1] == 0) break;
    frames[n].pc = pair[1];
    frames[n++].sp = fp + 16;
    sp = fp + 16;
    fp = pair[0];
  }
  uint64_t entries = 0;
  ResolveJitFrames(frames, n, &entries);

  char comm[64], cmdline[512], thread_name[64], path[64];
  ReadSmallFile("/proc/self/comm", comm, sizeof(comm));
  ReadSmallFile("/proc/self/cmdline", cmdline, sizeof(cmdline));
  {
    SafeWriter p(path, sizeof(path));
    p.Str("/proc/self/task/");
    p.Dec(c.tid);
    p.Str("/comm");
    p.Terminate();
  }
  ReadSmallFile(path, thread_name, sizeof(thread_name));
  uint64_t fault = c.info ? reinterpret_cast<uint64_t>(c.info->si_addr) : 0;
  int code = c.info ? c.info->si_code : 0;

  {
    g_maps[0] = 0;
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    size_t len = 0;
    if (fd >= 0) {
      for (;;) {
        ssize_t r = read(fd, g_maps + len, sizeof(g_maps) - 1 - len);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        len += static_cast<size_t>(r);
      }
      close(fd);
      // Keep whole lines only (the buffer may have cut the last one).
      while (len > 0 && g_maps[len - 1] != '\n') len--;
    }
    g_maps[len] = 0;
  }
  SafeWriter t(g_text, sizeof(g_text));
  t.Str("*** *** *** *** *** *** *** *** *** *** *** *** *** *** *** ***\n");
  t.Str("jitscope tombstone, version 1 (minimal: written by the crashing process itself because ");
  t.Str(why);
  t.Str(")\n");
  t.Str("Cmdline: ");
  t.Str(cmdline);
  t.Str("\npid: ");
  t.Dec(c.pid);
  t.Str(", tid: ");
  t.Dec(c.tid);
  t.Str(", name: ");
  t.Str(thread_name);
  t.Str("  >>> ");
  t.Str(comm);
  t.Str(" <<<\nsignal ");
  t.Dec(c.sig);
  t.Str(" (");
  t.Str(SignalName(c.sig));
  t.Str("), code ");
  t.Dec(code);
  t.Str(", fault addr ");
  t.Addr(fault);
  t.Str("\n");
  int col = 0;
  for (const RegName& r : kRegs) {
    if (r.greg < 0) continue;
    if (col == 0) t.Str("   ");
    t.Str(" ");
    size_t len = strlen(r.name);
    for (size_t i = len; i < 6; i++) t.Char(' ');
    t.Str(r.name);
    t.Char(' ');
    t.Hex(greg(r.greg), 16);
    if (++col == 4) {
      t.Char('\n');
      col = 0;
    }
  }
  if (col) t.Char('\n');
  t.Str("\nbacktrace (frame pointers, stack scan from native code; ");
  t.Dec(static_cast<int64_t>(entries));
  t.Str(" JIT entries registered):\n");
  for (int i = 0; i < n; i++) {
    t.Str("    #");
    if (i < 10) t.Char('0');
    t.Dec(i);
    t.Str(" pc ");
    t.Hex(frames[i].pc, 16);
    if (scanned[i]) t.Str("  (found by stack scan)");
    if (frames[i].end) {
      t.Str("  [jit] ");
      t.Str(frames[i].name);
      t.Str("+0x");
      t.Hex(frames[i].pc - frames[i].start);
    }
    t.Char('\n');
  }
  t.Str("\nmemory map:\n");
  t.Str(g_maps);
  t.Str("\n--- machine-readable part (JSON) follows ---\n");

  SafeWriter j(g_json, sizeof(g_json));
  j.Str("{\"format\":\"jitscope-tombstone\",\"version\":1,\"kind\":\"minimal\",\"minimal_reason\":");
  j.JsonString(why);
  j.Str(",\"pid\":");
  j.Dec(c.pid);
  j.Str(",\"tid\":");
  j.Dec(c.tid);
  j.Str(",\"comm\":");
  j.JsonString(comm);
  j.Str(",\"cmdline\":");
  j.JsonString(cmdline);
  j.Str(",\"signal\":{\"number\":");
  j.Dec(c.sig);
  j.Str(",\"name\":\"");
  j.Str(SignalName(c.sig));
  j.Str("\",\"code\":");
  j.Dec(code);
  j.Str(",\"fault_address\":\"");
  j.Addr(fault);
  j.Str("\"},\"signal_time_ns\":");
  j.Dec(static_cast<int64_t>(c.signal_ns));
  j.Str(",\"dump_time_ns\":");
  j.Dec(static_cast<int64_t>(Now(CLOCK_MONOTONIC)));
  j.Str(",\"maps_text\":");
  j.JsonString(g_maps);
  j.Str(",\"jit_entries\":");
  j.Dec(static_cast<int64_t>(entries));
  j.Str(",\"threads\":[{\"tid\":");
  j.Dec(c.tid);
  j.Str(",\"name\":");
  j.JsonString(thread_name);
  j.Str(",\"crashed\":true,\"registers\":{");
  bool first = true;
  for (const RegName& r : kRegs) {
    if (!first) j.Char(',');
    first = false;
    j.Char('"');
    j.Str(r.name);
    j.Str("\":\"");
    j.Addr(r.greg >= 0 ? greg(r.greg) : 0);
    j.Char('"');
  }
  j.Str("},\"frames\":[");
  for (int i = 0; i < n; i++) {
    if (i) j.Char(',');
    j.Str("{\"pc\":\"");
    j.Addr(frames[i].pc);
    j.Str("\",\"sp\":\"");
    j.Addr(frames[i].sp);
    j.Str("\",\"method\":\"");
    j.Str(i == 0 ? "registers" : scanned[i] ? "stack-scan" : "frame-pointer");
    j.Str("\"}");
  }
  j.Str("]}],\"jit_ranges\":[");
  bool first_range = true;
  for (int i = 0; i < n; i++) {
    if (!frames[i].end) continue;
    if (!first_range) j.Char(',');
    first_range = false;
    j.Str("{\"start\":\"");
    j.Addr(frames[i].start);
    j.Str("\",\"end\":\"");
    j.Addr(frames[i].end);
    j.Str("\",\"name\":");
    j.JsonString(frames[i].name);
    j.Char('}');
  }
  j.Str("]}\n");

  // The header line: fixed width so that it can be written before the parts.
  char header[128];
  SafeWriter h(header, sizeof(header));
  h.Str("JSCPTOMB v1 text=");
  h.Hex(t.size(), 16);
  h.Str(" json=");
  h.Hex(j.size(), 16);
  h.Str(" blob=");
  h.Hex(0, 16);
  h.Char('\n');

  char tmp[PATH_MAX + 16];
  SafeWriter tp(tmp, sizeof(tmp));
  tp.Str(c.path);
  tp.Str(".tmp");
  tp.Terminate();
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  bool ok = fd >= 0 && WriteAll(fd, h.data(), h.size()) && WriteAll(fd, t.data(), t.size()) &&
            WriteAll(fd, j.data(), j.size()) && fsync(fd) == 0;
  if (fd >= 0) close(fd);
  SafeWriter e(g_json, sizeof(g_json));  // the JSON is on disk: reuse its buffer
  if (ok && rename(tmp, c.path) == 0) {
    e.Str("jitvm: crashed with ");
    e.Str(SignalName(c.sig));
    e.Str("; wrote minimal tombstone ");
    e.Str(c.path);
    e.Str(" (");
    e.Str(why);
    e.Str(")\n");
  } else {
    unlink(tmp);
    e.Str("jitvm: crashed with ");
    e.Str(SignalName(c.sig));
    e.Str("; cannot write a tombstone in ");
    e.Str(g_tombstone_dir);
    e.Str("\n");
  }
  WriteAll(2, e.data(), e.size());
}

void Reraise(int sig, siginfo_t* info, pid_t tid) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = SIG_DFL;
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, nullptr);
  // Queue the original siginfo (a core file and a waiting parent see the
  // real cause); it is delivered when the handler returns and the signal is
  // unblocked, before the faulting instruction would run again. Allowed for
  // our own process even with a kernel si_code.
  if (!info || syscall(SYS_rt_tgsigqueueinfo, getpid(), tid, sig, info) != 0) syscall(SYS_tgkill, getpid(), tid, sig);
}

void CrashSignalHandler(int sig, siginfo_t* info, void* ucontext) {
  int saved_errno = errno;
  CrashContext c;
  c.signal_ns = Now(CLOCK_MONOTONIC);
  c.sig = sig;
  c.info = info;
  c.uc = static_cast<ucontext_t*>(ucontext);
  c.pid = getpid();
  c.tid = Gettid();
  int expected = 0;
  if (!g_crashing_tid.compare_exchange_strong(expected, c.tid)) {
    if (expected != c.tid) {
      // Another thread is dumping; the process dies when it is done. Its
      // dumper stops and records us too.
      timespec ts{0, 10 * 1000 * 1000};
      for (int waited = 0; waited < g_dumper_timeout_ms + kOtherThreadExtraWaitMs; waited += 10) nanosleep(&ts, nullptr);
    }
    // A crash inside our own handler: no second dump.
    Reraise(sig, info, c.tid);
    errno = saved_errno;
    return;
  }
  MakeDirs(g_tombstone_dir);
  {
    uint64_t real = Now(CLOCK_REALTIME);
    SafeWriter p(c.path, sizeof(c.path));
    p.Str(g_tombstone_dir);
    p.Str("/tombstone_");
    p.Dec(static_cast<int64_t>(real / 1000000000u));
    p.Char('_');
    p.Dec(c.pid);
    p.Char('_');
    p.Dec(c.tid);
    p.Terminate();
  }
  const char* failure = "the dumper failed";
  if (!RunDumper(c, &failure)) WriteMinimalTombstone(c, failure);
  Reraise(sig, info, c.tid);
  errno = saved_errno;
}

}  // namespace

// ------------------------------------------------------------ setup (not in the handler) --

void InstallCrashAltStack() {
  if (t_alt_stack.base) return;
  void* base = mmap(nullptr, kAltStackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (base == MAP_FAILED) return;
  stack_t ss{};
  ss.ss_sp = base;
  ss.ss_size = kAltStackSize;
  if (sigaltstack(&ss, nullptr) != 0) {
    munmap(base, kAltStackSize);
    return;
  }
  t_alt_stack.base = base;
}

bool CrashHandlerInstalled() { return g_installed; }

void InstallCrashHandler() {
  if (g_installed) return;
  const char* dumper = getenv("JITSCOPE_CRASH_DUMP");
  if (dumper && *dumper) {
    if (strlen(dumper) < sizeof(g_dumper_path)) memcpy(g_dumper_path, dumper, strlen(dumper) + 1);
  } else {
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
      exe[n] = 0;
      char* slash = strrchr(exe, '/');
      constexpr char kTool[] = "/jitscope";
      if (slash && static_cast<size_t>(slash - exe) + sizeof(kTool) <= sizeof(g_dumper_path)) {
        memcpy(g_dumper_path, exe, static_cast<size_t>(slash - exe));
        memcpy(g_dumper_path + (slash - exe), kTool, sizeof(kTool));
      }
    }
  }
  if (const char* timeout = getenv("JITSCOPE_CRASH_DUMP_TIMEOUT_MS")) {
    char* end = nullptr;
    long ms = strtol(timeout, &end, 10);
    if (end != timeout && *end == 0 && ms >= kMinDumperTimeoutMs && ms <= kMaxDumperTimeoutMs)
      g_dumper_timeout_ms = static_cast<int>(ms);
  }
  const char* dir = getenv("JITSCOPE_TOMBSTONE_DIR");
  if (!dir || !*dir) dir = "tombstones";
  g_tombstone_dir[0] = 0;
  if (dir[0] != '/') {
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof(cwd)) && strlen(cwd) + 1 + strlen(dir) < sizeof(g_tombstone_dir)) {
      strcpy(g_tombstone_dir, cwd);
      strcat(g_tombstone_dir, "/");
    }
  }
  if (strlen(g_tombstone_dir) + strlen(dir) < sizeof(g_tombstone_dir)) strcat(g_tombstone_dir, dir);
  InstallCrashAltStack();
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = CrashSignalHandler;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  for (int sig : kCrashSignals) sigaction(sig, &sa, nullptr);
  g_installed = true;
}

}  // namespace jitvm
