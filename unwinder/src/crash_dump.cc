#include "unwinder/crash_dump.h"

#include <dirent.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "debuginfo/descriptor_locator.h"
#include "debuginfo/jit_snapshot.h"
#include "unwinder/process_info.h"
#include "unwinder/remote_memory.h"

namespace jitscope {
namespace {

// Threads created while we stop the others are caught by rescanning the
// task list; a process that keeps spawning is given up on after this many scans.
constexpr int kMaxTaskScans = 16;
// Bytes captured around every register value and every code pc.
constexpr uint64_t kRegisterWindow = 256;
constexpr uint64_t kCodeWindow = 256;
// A frame beyond this many does not get its code captured (the stack
// overflow case has hundreds of identical frames).
constexpr size_t kMaxCodeWindows = 64;

uint64_t MonotonicNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\0')) s.pop_back();
  return s;
}

std::vector<pid_t> ListThreads(pid_t pid) {
  std::vector<pid_t> tids;
  DIR* dir = opendir(("/proc/" + std::to_string(pid) + "/task").c_str());
  if (!dir) return tids;
  while (dirent* e = readdir(dir)) {
    char* end;
    long tid = strtol(e->d_name, &end, 10);
    if (*end == 0 && tid > 0) tids.push_back(static_cast<pid_t>(tid));
  }
  closedir(dir);
  std::sort(tids.begin(), tids.end());
  return tids;
}

// One traced thread: stopped with PTRACE_SEIZE + PTRACE_INTERRUPT.
struct Traced {
  int pending_signal = 0;  // a signal that arrived before our stop: re-injected on detach
};

class ThreadStopper {
 public:
  explicit ThreadStopper(pid_t pid) : pid_(pid) {}
  ~ThreadStopper() {
    for (const auto& [tid, t] : traced_) ptrace(PTRACE_DETACH, tid, nullptr, reinterpret_cast<void*>(static_cast<long>(t.pending_signal)));
  }
  // Returns the errors of threads that could not be stopped (by tid).
  std::map<pid_t, std::string> StopAll() {
    std::map<pid_t, std::string> errors;
    for (int scan = 0; scan < kMaxTaskScans; scan++) {
      bool added = false;
      for (pid_t tid : ListThreads(pid_)) {
        if (traced_.count(tid) || errors.count(tid)) continue;
        added = true;
        if (ptrace(PTRACE_SEIZE, tid, nullptr, nullptr) != 0) {
          errors[tid] = std::string("PTRACE_SEIZE: ") + strerror(errno);
          continue;
        }
        Traced t;
        if (ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) != 0) {
          errors[tid] = std::string("PTRACE_INTERRUPT: ") + strerror(errno);
          traced_[tid] = t;
          continue;
        }
        // Wait for the interrupt stop; a signal-delivery stop may come first
        // (the signal is then ours to deliver again on detach).
        for (;;) {
          int status = 0;
          pid_t r = waitpid(tid, &status, __WALL);
          if (r < 0 && errno == EINTR) continue;
          if (r < 0 || WIFEXITED(status) || WIFSIGNALED(status)) {
            errors[tid] = "exited while being stopped";
            break;
          }
          if (WIFSTOPPED(status) && (status >> 16) == PTRACE_EVENT_STOP) {
            traced_[tid] = t;
            break;
          }
          if (WIFSTOPPED(status)) {
            t.pending_signal = WSTOPSIG(status);
            // Park it again: the next stop is the interrupt.
            ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr);
            ptrace(PTRACE_CONT, tid, nullptr, nullptr);
          }
        }
      }
      if (!added) break;
    }
    return errors;
  }
  const std::map<pid_t, Traced>& traced() const { return traced_; }

 private:
  pid_t pid_;
  std::map<pid_t, Traced> traced_;
};

// The registers at the fault, from the ucontext the kernel saved on the
// signal stack (PTRACE_GETREGS would give the handler's).
bool RegistersFromUcontext(Memory& memory, uint64_t address, Registers* regs) {
  ucontext_t uc;
  if (!memory.ReadFully(address, &uc, sizeof(uc))) return false;
  const greg_t* g = uc.uc_mcontext.gregs;
  auto u = [g](int r) { return static_cast<uint64_t>(g[r]); };
  regs->r8 = u(REG_R8), regs->r9 = u(REG_R9), regs->r10 = u(REG_R10), regs->r11 = u(REG_R11);
  regs->r12 = u(REG_R12), regs->r13 = u(REG_R13), regs->r14 = u(REG_R14), regs->r15 = u(REG_R15);
  regs->rdi = u(REG_RDI), regs->rsi = u(REG_RSI), regs->rbp = u(REG_RBP), regs->rbx = u(REG_RBX);
  regs->rdx = u(REG_RDX), regs->rax = u(REG_RAX), regs->rcx = u(REG_RCX), regs->rsp = u(REG_RSP);
  regs->rip = u(REG_RIP), regs->eflags = u(REG_EFL);
  regs->orig_rax = ~uint64_t{0};  // not in a system call
  return true;
}

// Copies [begin, end) page by page until the first unreadable page.
std::vector<uint8_t> CopyRange(Memory& memory, uint64_t begin, uint64_t end) {
  constexpr uint64_t kPage = 4096;
  std::vector<uint8_t> out;
  uint64_t at = begin;
  while (at < end) {
    uint64_t next = std::min(end, (at / kPage + 1) * kPage);
    size_t n = static_cast<size_t>(next - at);
    size_t old = out.size();
    out.resize(old + n);
    size_t got = memory.Read(at, out.data() + old, n);
    if (got != n) {
      out.resize(old + got);
      break;
    }
    at = next;
  }
  return out;
}

const MapEntry* FindMap(const std::vector<MapEntry>& maps, uint64_t address) {
  for (const MapEntry& m : maps)
    if (address >= m.start && address < m.end) return &m;
  return nullptr;
}

// A stack overflow recurses until the guard page: millions of identical
// frames between the fault and the code that started the recursion (the
// Lua frames people want to see). When the unwind stopped at max_frames
// inside a run of identical frames (same pc, same frame size), find the
// outermost frame of the run by binary search over the return-address
// slots (each frame's pc is stored 8 bytes below its sp), resume the unwind
// there and record how many frames were skipped. The stack from there up
// is captured too, for offline readers.
constexpr size_t kRecursionRun = 16;
constexpr size_t kMaxResumedFrames = 128;
constexpr uint64_t kResumedStackBytes = 32 * 1024;

void SkipRecursion(Memory& memory, const std::vector<MapEntry>& maps, const JitSnapshot& jit, Registers regs,
                   const UnwindOptions& options, pid_t tid, std::vector<TombstoneFrame>* frames,
                   std::vector<TombstoneMemory>* captures) {
  size_t n = frames->size();
  if (n < options.max_frames || n < kRecursionRun + 1) return;
  const TombstoneFrame last = frames->back();
  uint64_t size = last.sp - (*frames)[n - 2].sp;
  if (last.sp <= (*frames)[n - 2].sp || size > (uint64_t{1} << 20)) return;
  for (size_t i = n - kRecursionRun; i < n; i++)
    if ((*frames)[i].pc != last.pc || (*frames)[i].sp - (*frames)[i - 1].sp != size) return;
  const MapEntry* stack = FindMap(maps, last.sp);
  if (!stack) return;
  auto recursive = [&](uint64_t m) {
    uint64_t value = 0;
    return memory.Read64(last.sp + m * size - 8, &value) && value == last.pc;
  };
  uint64_t lo = 0, hi = (stack->end - last.sp) / size + 1;  // recursive(lo), !recursive(hi)
  while (hi - lo > 1) {
    uint64_t mid = lo + (hi - lo) / 2;
    (recursive(mid) ? lo : hi) = mid;
  }
  if (lo < 2) return;
  regs.rip = last.pc;
  regs.rsp = last.sp + lo * size;
  UnwindOptions resumed = options;
  resumed.max_frames = kMaxResumedFrames;
  std::vector<TombstoneFrame> tail = UnwindTombstoneThread(memory, maps, jit, regs, resumed, nullptr);
  if (tail.size() < 2) return;
  tail[0].method = "recursion-skip";
  tail[0].skipped = lo - 1;
  frames->insert(frames->end(), tail.begin(), tail.end());
  uint64_t begin = regs.rsp >= 128 ? regs.rsp - 128 : 0;
  uint64_t end = std::min(stack->end, regs.rsp + kResumedStackBytes);
  TombstoneMemory m{begin, "stack of " + std::to_string(tid) + " (outer frames)", CopyRange(memory, begin, end)};
  if (!m.bytes.empty()) captures->push_back(std::move(m));
}

}  // namespace

Result<CrashRequest> ParseCrashRequest(std::string_view text) {
  CrashRequest r;
  std::istringstream in{std::string(text)};
  std::string line;
  if (!std::getline(in, line) || line != "jitscope-crash 1")
    return Error{"crash request: expected 'jitscope-crash 1' as its first line, got '" + line.substr(0, 40) + "'"};
  bool ended = false;
  while (std::getline(in, line)) {
    if (line == "end") {
      ended = true;
      break;
    }
    size_t eq = line.find('=');
    if (eq == std::string::npos) return Error{"crash request: bad line '" + line + "'"};
    std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    errno = 0;
    char* end = nullptr;
    uint64_t number = strtoull(value.c_str(), &end, 0);
    bool numeric = errno == 0 && end && *end == 0 && !value.empty();
    if (key == "tombstone") {
      r.tombstone_path = value;
      continue;
    }
    if (!numeric) return Error{"crash request: '" + key + "' needs a number, got '" + value + "'"};
    if (key == "pid") r.pid = static_cast<pid_t>(number);
    else if (key == "tid") r.tid = static_cast<pid_t>(number);
    else if (key == "signal") r.signal = static_cast<int>(number);
    else if (key == "code") r.code = static_cast<int>(static_cast<int64_t>(strtoll(value.c_str(), nullptr, 0)));
    else if (key == "fault_address") r.fault_address = number;
    else if (key == "siginfo") r.siginfo = number;
    else if (key == "ucontext") r.ucontext = number;
    else if (key == "signal_time_ns") r.signal_time_ns = number;
    // Unknown keys: a newer VM; ignored.
  }
  if (!ended) return Error{"crash request: truncated (no 'end' line)"};
  if (r.pid <= 0 || r.tid <= 0) return Error{"crash request: missing pid or tid"};
  if (r.tombstone_path.empty()) return Error{"crash request: missing tombstone path"};
  return r;
}

Result<Tombstone> DumpCrashedProcess(const CrashRequest& req, const CrashDumpOptions& options) {
  if (!ProcessExists(req.pid)) return Error{"process " + std::to_string(req.pid) + " does not exist"};
  Tombstone t;
  t.pid = req.pid;
  t.tid = req.tid;
  t.signal = req.signal;
  t.si_code = req.code;
  t.fault_address = req.fault_address;
  t.signal_time_ns = req.signal_time_ns;
  t.realtime_s = static_cast<uint64_t>(time(nullptr));
  std::string proc = "/proc/" + std::to_string(req.pid);
  t.comm = ReadProcessComm(req.pid);
  {
    std::string cmdline = ReadText(proc + "/cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    t.cmdline = Trim(cmdline);
  }

  ThreadStopper stopper(req.pid);
  std::map<pid_t, std::string> stop_errors = stopper.StopAll();
  if (!stopper.traced().count(req.tid)) {
    auto e = stop_errors.find(req.tid);
    return Error{"cannot stop the crashed thread " + std::to_string(req.tid) + ": " +
                 (e == stop_errors.end() ? "it is gone" : e->second) +
                 " (is ptrace allowed? see /proc/sys/kernel/yama/ptrace_scope)"};
  }
  RemoteMemory memory(req.pid);
  Result<std::vector<MapEntry>> maps = ReadProcessMaps(req.pid);
  if (!maps) return std::move(maps).take_error();
  t.maps = std::move(*maps);

  // The JIT state, as `jitscope snapshot` copies it (consistent: every
  // thread is stopped, and the seqlocks are checked anyway).
  auto snapshot = std::make_unique<ProcessSnapshot>();
  snapshot->pid = req.pid;
  snapshot->comm = t.comm;
  snapshot->maps = t.maps;
  DescriptorLocator locator;
  std::string jit_problem;
  Result<std::vector<DescriptorLocation>> locations = locator.LocateInMaps(t.maps, req.pid);
  if (locations && !locations->empty()) {
    JitSnapshotter snapshotter(memory, std::move(*locations));
    Result<bool> polled = snapshotter.Poll();
    if (polled) {
      snapshot->jit = snapshotter.snapshot();
      snapshot->jit.synchronized = true;  // read with every thread stopped
    } else {
      jit_problem = polled.error();
    }
  } else if (!locations) {
    jit_problem = locations.error();
  }
  Result<std::vector<DescriptorLocation>> sources = locator.LocateInMaps(t.maps, req.pid, kSourceDescriptorSymbol);
  if (sources && !sources->empty()) {
    JitSnapshotter source_reader(memory, std::move(*sources), DescriptorReaderLimits{}, /*parse=*/false);
    if (source_reader.Poll()) snapshot->sources = source_reader.snapshot();
  }
  CaptureJitCode(memory, snapshot.get());
  t.jit_entries = snapshot->jit.totals().entries;

  for (pid_t tid : ListThreads(req.pid)) {
    TombstoneThread th;
    th.tid = tid;
    th.name = Trim(ReadText(proc + "/task/" + std::to_string(tid) + "/comm"));
    th.crashed = tid == req.tid;
    auto stop_error = stop_errors.find(tid);
    if (!stopper.traced().count(tid)) {
      th.error = stop_error == stop_errors.end() ? "appeared after the threads were stopped" : stop_error->second;
      t.threads.push_back(std::move(th));
      continue;
    }
    user_regs_struct user{};
    if (ptrace(PTRACE_GETREGS, tid, nullptr, &user) != 0) {
      th.error = std::string("PTRACE_GETREGS: ") + strerror(errno);
      t.threads.push_back(std::move(th));
      continue;
    }
    memcpy(&th.regs, &user, sizeof(th.regs));
    if (th.crashed && req.ucontext && !RegistersFromUcontext(memory, req.ucontext, &th.regs))
      th.error = "cannot read the ucontext at " + HexAddress(req.ucontext) + ": registers are the signal handler's";
    UnwindOptions unwind;
    unwind.max_frames = options.max_frames;
    unwind.pid = req.pid;
    std::string unwind_error;
    th.frames = UnwindTombstoneThread(memory, t.maps, snapshot->jit, th.regs, unwind, &unwind_error);
    if (th.error.empty()) th.error = unwind_error;
    SkipRecursion(memory, t.maps, snapshot->jit, th.regs, unwind, tid, &th.frames, &t.memory);
    // The stack from just below sp (the red zone a leaf may use) up.
    uint64_t sp = th.regs.rsp;
    if (const MapEntry* stack = FindMap(t.maps, sp)) {
      uint64_t begin = std::max(stack->start, sp >= 128 ? sp - 128 : 0);
      uint64_t want = th.crashed ? options.crash_stack_bytes : options.other_stack_bytes;
      uint64_t end = std::min(stack->end, sp + want);
      TombstoneMemory m{begin, "stack of " + std::to_string(tid), CopyRange(memory, begin, end)};
      if (!m.bytes.empty()) t.memory.push_back(std::move(m));
    }
    if (th.crashed) {
      // Memory near every register that points into a readable mapping.
      static constexpr std::pair<const char*, uint64_t Registers::*> kNear[] = {
          {"rip", &Registers::rip}, {"rax", &Registers::rax}, {"rbx", &Registers::rbx}, {"rcx", &Registers::rcx},
          {"rdx", &Registers::rdx}, {"rsi", &Registers::rsi}, {"rdi", &Registers::rdi}, {"rbp", &Registers::rbp},
          {"rsp", &Registers::rsp}, {"r8", &Registers::r8},   {"r9", &Registers::r9},   {"r10", &Registers::r10},
          {"r11", &Registers::r11}, {"r12", &Registers::r12}, {"r13", &Registers::r13}, {"r14", &Registers::r14},
          {"r15", &Registers::r15}};
      for (const auto& [name, member] : kNear) {
        uint64_t value = th.regs.*member;
        const MapEntry* map = FindMap(t.maps, value);
        if (!map || !map->readable) continue;
        uint64_t begin = std::max(map->start, (value & ~uint64_t{15}) >= kRegisterWindow / 2
                                                  ? (value & ~uint64_t{15}) - kRegisterWindow / 2
                                                  : 0);
        uint64_t end = std::min(map->end, begin + kRegisterWindow);
        TombstoneMemory m{begin, std::string("near ") + name, CopyRange(memory, begin, end)};
        if (!m.bytes.empty()) t.memory.push_back(std::move(m));
      }
      // Code around every pc in executable memory (JIT code is also in the
      // snapshot; native code so that a disassembler needs no binary).
      for (size_t i = 0; i < th.frames.size() && i < kMaxCodeWindows; i++) {
        uint64_t pc = th.frames[i].pc;
        const MapEntry* map = FindMap(t.maps, pc);
        if (!map || !map->executable || !map->readable) continue;
        uint64_t begin = std::max(map->start, pc >= kCodeWindow ? pc - kCodeWindow : 0);
        uint64_t end = std::min(map->end, pc + kCodeWindow);
        char label[32];
        snprintf(label, sizeof(label), "code near #%02zu", i);
        TombstoneMemory m{begin, label, CopyRange(memory, begin, end)};
        if (!m.bytes.empty()) t.memory.push_back(std::move(m));
      }
    }
    t.threads.push_back(std::move(th));
  }
  // The crashed thread first: readers and people look there.
  std::stable_sort(t.threads.begin(), t.threads.end(),
                   [](const TombstoneThread& a, const TombstoneThread& b) { return a.crashed > b.crashed; });

  std::set<std::string> seen;
  for (const MapEntry& m : t.maps) {
    if (!m.IsFileBacked() || !seen.insert(m.path).second) continue;
    std::string id = ReadBuildId(m.path);
    if (id.empty()) {
      char range[64];
      snprintf(range, sizeof(range), "/map_files/%lx-%lx", static_cast<unsigned long>(m.start),
               static_cast<unsigned long>(m.end));
      id = ReadBuildId(proc + range);
    }
    t.modules.push_back({m.path, id});
  }
  if (!jit_problem.empty() && !t.threads.empty() && t.threads[0].error.empty())
    t.threads[0].error = "JIT debug info: " + jit_problem;
  t.snapshot = std::move(snapshot);
  t.dump_time_ns = MonotonicNs();
  return t;
}

}  // namespace jitscope
