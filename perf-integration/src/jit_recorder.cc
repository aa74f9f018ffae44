#include "perf_integration/jit_recorder.h"

#include <fcntl.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <tuple>

#include "debuginfo/atomic_file.h"
#include "debuginfo/descriptor_locator.h"
#include "debuginfo/jit_snapshot.h"
#include "debuginfo/process_maps.h"
#include "perf_integration/jitdump_writer.h"
#include "unwinder/process_info.h"
#include "unwinder/remote_memory.h"

namespace jitscope::perf {

namespace {

// perf attaches in ~150 ms on this machine; a loaded CI machine may need more.
constexpr int kPerfReadyTimeoutMs = 30'000;
// After SIGINT perf flushes its buffers and writes the header.
constexpr int kPerfStopTimeoutMs = 60'000;
// perf inject of a few hundred MB (dwarf call graphs) takes seconds.
constexpr int kInjectTimeoutMs = 300'000;
// While the target has no descriptor yet (its JIT library not mapped).
constexpr uint64_t kLocateIntervalNs = 20'000'000;
// A JIT function larger than this is not one (a hostile descriptor).
constexpr uint64_t kMaxCodeBytes = 16u << 20;

uint64_t NowNs() { return MonotonicNowNs(); }

double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

void SleepNs(uint64_t ns) {
  timespec ts{static_cast<time_t>(ns / 1000000000ull), static_cast<long>(ns % 1000000000ull)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

std::string Errno(const std::string& what) { return what + ": " + strerror(errno); }

// A child that stays until its pipe closes (we exit or close it) or we die.
struct Child {
  pid_t pid = -1;
  int status = -1;
  bool reaped = false;
};

bool Reap(Child* c, bool block) {
  if (c->pid <= 0 || c->reaped) return c->reaped;
  int st = 0;
  pid_t r;
  do {
    r = waitpid(c->pid, &st, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == c->pid) {
    c->reaped = true;
    c->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  } else if (r < 0) {
    c->reaped = true;  // not ours any more
  }
  return c->reaped;
}

bool WaitWithTimeout(Child* c, int timeout_ms) {
  uint64_t deadline = NowNs() + static_cast<uint64_t>(timeout_ms) * 1000000ull;
  while (!Reap(c, false)) {
    if (NowNs() > deadline) return false;
    SleepNs(5'000'000);
  }
  return true;
}

// Runs argv with stdout and stderr appended to `log`; fds in `keep` stay open.
Result<Child> Spawn(const std::vector<std::string>& argv, const std::string& log, const std::vector<int>& keep) {
  int exec_pipe[2];
  if (pipe2(exec_pipe, O_CLOEXEC) != 0) return Error{Errno("pipe")};
  Child c;
  c.pid = fork();
  if (c.pid < 0) return Error{Errno("fork")};
  if (c.pid == 0) {
    close(exec_pipe[0]);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    for (int k : keep) fcntl(k, F_SETFD, 0);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    int err = errno;
    ssize_t ignored = write(exec_pipe[1], &err, sizeof(err));
    (void)ignored;
    _exit(127);
  }
  close(exec_pipe[1]);
  int err = 0;
  ssize_t n;
  do {
    n = read(exec_pipe[0], &err, sizeof(err));
  } while (n < 0 && errno == EINTR);
  close(exec_pipe[0]);
  if (n == sizeof(err)) {
    Reap(&c, true);
    return Error{"cannot run '" + argv[0] + "': " + strerror(err)};
  }
  return c;
}

// The process mapping DIR/jit-PID.dump executable for perf to see (see the
// header). Returns its pid; it exits when `hold_fd`'s other end closes.
// `inherited`: our fds the child must close, since it never execs (a pipe end
// it kept open would keep its reader from seeing EOF).
Result<Child> StartMarker(const std::string& dir, pid_t target, const std::vector<int>& inherited, int* hold_fd,
                          std::string* path) {
  int hold[2], ready[2];
  if (pipe2(hold, O_CLOEXEC) != 0 || pipe2(ready, O_CLOEXEC) != 0) return Error{Errno("pipe")};
  Child c;
  c.pid = fork();
  if (c.pid < 0) return Error{Errno("fork")};
  if (c.pid == 0) {
    close(hold[1]);
    close(ready[0]);
    for (int fd : inherited)
      if (fd >= 0) close(fd);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    prctl(PR_SET_NAME, "jitscope-marker");
    std::string error;
    auto writer = JitdumpWriter::Create(dir, &error, static_cast<uint32_t>(target));
    char ok = writer ? 1 : 0;
    if (!writer) {
      ssize_t ignored = write(2, error.data(), error.size());
      (void)ignored;
    }
    ssize_t ignored = write(ready[1], &ok, 1);
    (void)ignored;
    char b;
    while (read(hold[0], &b, 1) < 0 && errno == EINTR) {
    }
    _exit(0);
  }
  close(hold[0]);
  close(ready[1]);
  char ok = 0;
  ssize_t n;
  do {
    n = read(ready[0], &ok, 1);
  } while (n < 0 && errno == EINTR);
  close(ready[0]);
  if (n != 1 || !ok) {
    close(hold[1]);
    Reap(&c, true);
    return Error{"cannot create the jitdump marker in '" + dir + "'"};
  }
  *hold_fd = hold[1];
  *path = dir + "/jit-" + std::to_string(c.pid) + ".dump";
  return c;
}

// Hardware cycles where the machine has them (precise), the cpu-clock
// software timer otherwise (VMs and containers such as this project's CI).
std::string SamplingEvent() {
  perf_event_attr attr{};
  attr.size = sizeof(attr);
  attr.type = PERF_TYPE_HARDWARE;
  attr.config = PERF_COUNT_HW_CPU_CYCLES;
  attr.disabled = 1;
  attr.exclude_kernel = 1;
  long fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
  if (fd < 0) return "cpu-clock";
  close(static_cast<int>(fd));
  return "cycles";
}

std::string Tail(const std::string& path, size_t max_bytes = 600) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  if (s.size() > max_bytes) s = s.substr(s.size() - max_bytes);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  for (char& ch : s)
    if (ch == '\n') ch = ' ';
  return s;
}

bool TargetGone(pid_t pid, Child* launched) {
  if (launched) return Reap(launched, false);
  return ProcessExited(pid);
}

// What the descriptor told us, function by function, in time.
struct Load {
  uint64_t timestamp = 0;
  uint64_t address = 0, size = 0;
  std::string name;
  std::vector<uint8_t> code;
};

using FunctionKey = std::tuple<uint64_t, uint64_t, std::string>;    // address, size, name
using EntryKey = std::tuple<uint64_t, uint64_t, uint32_t, uint64_t>;  // entry, timestamp, seqlock, symfile

class DescriptorFollower {
 public:
  explicit DescriptorFollower(pid_t pid) : pid_(pid), memory_(pid) {}

  bool found() const { return snapshotter_ != nullptr; }

  void TryLocate() {
    Result<std::vector<MapEntry>> maps = ReadProcessMaps(pid_);
    if (!maps) return;
    Result<std::vector<DescriptorLocation>> loc = locator_.LocateInMaps(*maps, pid_);
    if (!loc || loc->empty()) return;
    snapshotter_ = std::make_unique<JitSnapshotter>(memory_, std::move(*loc));
  }

  // Returns whether the snapshot changed.
  Result<bool> Poll(RecordResult* stats) {
    Result<bool> changed = snapshotter_->Poll();
    if (!changed) return changed;
    if (*changed) Apply(snapshotter_->snapshot(), stats);
    return changed;
  }

  std::vector<Load>& loads() { return loads_; }

 private:
  void Apply(const JitSnapshot& snap, RecordResult* stats) {
    std::map<EntryKey, const SnapshotEntry*> now;
    for (const DescriptorView& d : snap.descriptors)
      for (const SnapshotEntry& e : d.entries)
        now.emplace(EntryKey{e.entry_address, e.timestamp, e.seqlock, e.symfile_addr}, &e);
    // New entries first: a replacement is linked before what it replaces is
    // unlinked, so a function that moved into a packed group keeps a count.
    for (const auto& [key, e] : now) {
      if (entries_.count(key)) continue;
      std::vector<FunctionKey>& funcs = entries_[key];
      stats->entries_seen++;
      if (!e->info) continue;
      uint64_t ts = e->timestamp ? e->timestamp : snap.taken_ns;
      for (const SymfileFunction& f : e->info->functions) {
        if (f.size == 0 || f.size > kMaxCodeBytes) continue;
        FunctionKey fk{f.address, f.size, f.name};
        funcs.push_back(fk);
        if (refs_[fk]++ > 0) continue;
        Load load;
        load.timestamp = ts;
        load.address = f.address;
        load.size = f.size;
        load.name = f.name;
        load.code.resize(f.size);
        if (!memory_.ReadFully(f.address, load.code.data(), f.size)) {
          // Freed already: perf only shows these bytes in annotate.
          std::fill(load.code.begin(), load.code.end(), 0xcc);
          stats->code_read_failures++;
        }
        loads_.push_back(std::move(load));
        stats->functions_loaded++;
      }
    }
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (now.count(it->first)) {
        ++it;
        continue;
      }
      for (const FunctionKey& fk : it->second) {
        auto r = refs_.find(fk);
        if (r != refs_.end() && --r->second == 0) {
          refs_.erase(r);
          stats->functions_unloaded++;
        }
      }
      it = entries_.erase(it);
    }
  }

  pid_t pid_;
  RemoteMemory memory_;
  DescriptorLocator locator_;
  std::unique_ptr<JitSnapshotter> snapshotter_;
  std::map<EntryKey, std::vector<FunctionKey>> entries_;
  std::map<FunctionKey, int> refs_;
  std::vector<Load> loads_;
};

bool WriteJitdump(const std::string& path, pid_t target, std::vector<Load>& loads, std::string* error) {
  std::stable_sort(loads.begin(), loads.end(), [](const Load& a, const Load& b) { return a.timestamp < b.timestamp; });
  std::string tmp = path + ".tmp";
  auto writer = JitdumpWriter::CreateAt(tmp, /*map_marker=*/false, error, static_cast<uint32_t>(target));
  if (!writer) return false;
  for (const Load& l : loads) {
    CodeInfo code;
    code.address = l.address;
    code.size = l.size;
    code.name = l.name;
    code.code_bytes = l.code.data();
    JitdumpWriter::LoadOptions o;
    o.pid = static_cast<uint32_t>(target);
    o.tid = static_cast<uint32_t>(target);
    o.timestamp_ns = l.timestamp;
    o.debug_info = false;      // mini debug info has no lines to give
    o.unwinding_info = false;  // no frame description, only .debug_frame (see docs/perf.md)
    if (!writer->WriteLoad(code, o, error)) return false;
  }
  if (!writer->Close(loads.empty() ? 0 : loads.back().timestamp)) {
    *error = "cannot finish '" + tmp + "'";
    return false;
  }
  writer.reset();
  // The marker process maps the old file; perf inject opens it by name.
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    *error = Errno("cannot rename '" + tmp + "' to '" + path + "'");
    return false;
  }
  return true;
}

struct FdCloser {
  std::vector<int> fds;
  ~FdCloser() {
    for (int fd : fds)
      if (fd >= 0) close(fd);
  }
};

}  // namespace

Result<RecordResult> Record(const RecordOptions& options) {
  if (options.pid <= 0 && options.command.empty()) return Error{"nothing to record: give -p PID or a command"};
  if (options.pid > 0 && !ProcessExists(options.pid))
    return Error{"process " + std::to_string(options.pid) + " does not exist"};
  std::string dir = options.out_dir.empty() ? "." : options.out_dir;
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return Error{Errno("cannot create '" + dir + "'")};
  struct stat st;
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return Error{"'" + dir + "' is not a directory"};
  // Files of an earlier recording in DIR would be mistaken for this one's.
  for (const char* f : {"perf.data", "perf.jit.data", "perf.log", "record.json"}) unlink((dir + "/" + f).c_str());

  RecordResult result;
  result.perf_data = dir + "/perf.data";
  result.perf_jit_data = dir + "/perf.jit.data";
  std::string log = dir + "/perf.log";
  FdCloser closer;

  // The launched command waits for `go` so that perf is attached before it runs.
  Child launched;
  bool launching = options.pid <= 0;
  int go_fd = -1;
  int exec_status_fd = -1;  // CLOEXEC pipe: EOF once the command's exec succeeded
  pid_t target = options.pid;
  if (launching) {
    int go[2], exec_status[2];
    if (pipe2(go, O_CLOEXEC) != 0 || pipe2(exec_status, O_CLOEXEC) != 0) return Error{Errno("pipe")};
    launched.pid = fork();
    if (launched.pid < 0) return Error{Errno("fork")};
    if (launched.pid == 0) {
      close(go[1]);
      close(exec_status[0]);
      char b = 0;
      ssize_t n;
      do {
        n = read(go[0], &b, 1);
      } while (n < 0 && errno == EINTR);
      if (n != 1) _exit(127);  // the recorder gave up
      std::vector<char*> args;
      for (const std::string& a : options.command) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execvp(args[0], args.data());
      int err = errno;
      ssize_t ignored = write(exec_status[1], &err, sizeof(err));
      (void)ignored;
      _exit(127);
    }
    close(go[0]);
    close(exec_status[1]);
    go_fd = go[1];
    exec_status_fd = exec_status[0];
    closer.fds.push_back(exec_status_fd);
    target = launched.pid;
    result.target_pid = target;
  } else {
    result.target_pid = target;
  }
  auto abandon_launch = [&]() {
    if (go_fd >= 0) {
      close(go_fd);  // the child exits without running the command
      go_fd = -1;
    }
    if (launching) Reap(&launched, true);
  };

  int hold_fd = -1;
  Child marker;
  {
    Result<Child> m = StartMarker(dir, target, {go_fd, exec_status_fd}, &hold_fd, &result.jitdump);
    if (!m) {
      abandon_launch();
      return std::move(m).take_error();
    }
    marker = *m;
  }
  auto stop_marker = [&]() {
    if (hold_fd >= 0) close(hold_fd);
    hold_fd = -1;
    Reap(&marker, true);
  };

  int ctl[2], ack[2];
  if (pipe2(ctl, O_CLOEXEC) != 0 || pipe2(ack, O_CLOEXEC) != 0) {
    abandon_launch();
    stop_marker();
    return Error{Errno("pipe")};
  }
  std::vector<std::string> perf_args = {options.perf, "record", "-k", "1", "-e", SamplingEvent(), "-F",
                                        std::to_string(options.frequency_hz), "-o", result.perf_data};
  if (options.call_graph == CallGraph::kFramePointer) perf_args.push_back("-g");
  if (options.call_graph == CallGraph::kDwarf) {
    perf_args.push_back("--call-graph");
    perf_args.push_back("dwarf");
  }
  perf_args.push_back("-p");
  perf_args.push_back(std::to_string(target) + "," + std::to_string(marker.pid));
  perf_args.push_back("--control");
  perf_args.push_back("fd:" + std::to_string(ctl[0]) + "," + std::to_string(ack[1]));
  Result<Child> perf = Spawn(perf_args, log, {ctl[0], ack[1]});
  close(ctl[0]);
  close(ack[1]);
  closer.fds.push_back(ctl[1]);
  closer.fds.push_back(ack[0]);
  if (!perf) {
    abandon_launch();
    stop_marker();
    return std::move(perf).take_error();
  }
  Child perf_child = *perf;
  auto stop_perf = [&]() {
    if (!perf_child.reaped) {
      kill(perf_child.pid, SIGINT);
      if (!WaitWithTimeout(&perf_child, kPerfStopTimeoutMs)) {
        kill(perf_child.pid, SIGKILL);
        Reap(&perf_child, true);
      }
    }
  };

  // perf answers "ping" once it is in its main loop, i.e. recording.
  {
    const char ping[] = "ping\n";
    ssize_t ignored = write(ctl[1], ping, sizeof(ping) - 1);
    (void)ignored;
    // perf exits at once when it cannot open its events (perf_event_paranoid,
    // no such pid): check on it while waiting.
    pollfd p{ack[0], POLLIN, 0};
    int r = 0;
    for (int waited = 0; waited < kPerfReadyTimeoutMs && r == 0; waited += 100) {
      r = poll(&p, 1, 100);
      if (r < 0 && errno == EINTR) r = 0;
      if (r == 0 && Reap(&perf_child, false)) break;
    }
    char buf[16] = {};
    if (r <= 0 || read(ack[0], buf, sizeof(buf) - 1) <= 0 || strncmp(buf, "ack", 3) != 0) {
      stop_perf();
      abandon_launch();
      stop_marker();
      return Error{"perf record did not start (see " + log + "): " + Tail(log)};
    }
  }

  uint64_t start_ns = NowNs();
  if (launching) {
    char b = 1;
    ssize_t ignored = write(go_fd, &b, 1);
    (void)ignored;
    close(go_fd);
    go_fd = -1;
    // EOF on the CLOEXEC pipe: the command's image replaced our fork, so the
    // maps we read from now on are the command's, not a copy of ours.
    int err = 0;
    ssize_t n;
    do {
      n = read(exec_status_fd, &err, sizeof(err));
    } while (n < 0 && errno == EINTR);
    if (n == sizeof(err)) {
      Reap(&launched, true);
      stop_perf();
      stop_marker();
      return Error{"cannot run '" + options.command[0] + "': " + strerror(err)};
    }
  }

  DescriptorFollower follower(target);
  double cpu0 = ThreadCpuSeconds();
  uint64_t interval = kMinPollIntervalNs;
  uint64_t last_poll = 0, last_locate = 0;
  for (;;) {
    uint64_t now = NowNs();
    bool gone = TargetGone(target, launching ? &launched : nullptr);
    bool timeup = options.duration_s > 0 && static_cast<double>(now - start_ns) / 1e9 >= options.duration_s;
    bool stopped = options.stop && options.stop->load();
    if (perf_child.pid > 0 && Reap(&perf_child, false)) break;  // perf died: nothing more to record
    if (!follower.found() && now - last_locate >= kLocateIntervalNs && !gone) {
      last_locate = now;
      follower.TryLocate();
    }
    if (follower.found() && !gone) {
      if (last_poll) result.max_poll_gap_ns = std::max(result.max_poll_gap_ns, now - last_poll);
      last_poll = now;
      result.polls++;
      Result<bool> changed = follower.Poll(&result);
      if (!changed) {
        result.poll_errors++;
      } else if (*changed) {
        result.changed_polls++;
        interval = std::max(kMinPollIntervalNs, interval / 2);
      } else {
        interval = std::min(kMaxPollIntervalNs, interval * 2);
      }
    }
    if (gone || timeup || stopped) break;
    SleepNs(follower.found() ? interval : kMinPollIntervalNs * 4);
  }
  result.poll_cpu_s = ThreadCpuSeconds() - cpu0;
  result.descriptor_found = follower.found();
  result.wall_s = static_cast<double>(NowNs() - start_ns) / 1e9;
  bool perf_died = perf_child.reaped;
  stop_perf();
  if (launching) {
    if (!Reap(&launched, false)) {
      // Recording ended first (duration or Ctrl-C): the command goes on, as with perf record.
    }
    result.target_status = launched.reaped ? launched.status : -1;
  }
  if (perf_died && perf_child.status != 0) {
    stop_marker();
    return Error{"perf record failed (see " + log + "): " + Tail(log)};
  }
  if (access(result.perf_data.c_str(), R_OK) != 0) {
    stop_marker();
    return Error{"perf record wrote no " + result.perf_data + " (see " + log + "): " + Tail(log)};
  }
  std::string error;
  if (!WriteJitdump(result.jitdump, target, follower.loads(), &error)) {
    stop_marker();
    return Error{error};
  }
  stop_marker();

  uint64_t inject0 = NowNs();
  std::string tmp_jit = result.perf_jit_data + ".tmp";
  Result<Child> inject =
      Spawn({options.perf, "inject", "--jit", "-i", result.perf_data, "-o", tmp_jit}, log, {});
  if (!inject) return std::move(inject).take_error();
  Child inject_child = *inject;
  if (!WaitWithTimeout(&inject_child, kInjectTimeoutMs)) {
    kill(inject_child.pid, SIGKILL);
    Reap(&inject_child, true);
    return Error{"perf inject --jit timed out (see " + log + ")"};
  }
  if (inject_child.status != 0) return Error{"perf inject --jit failed (see " + log + "): " + Tail(log)};
  if (rename(tmp_jit.c_str(), result.perf_jit_data.c_str()) != 0)
    return Error{Errno("cannot rename '" + tmp_jit + "'")};
  result.inject_s = static_cast<double>(NowNs() - inject0) / 1e9;

  nlohmann::json j{{"target_pid", result.target_pid},
                   {"target_status", result.target_status},
                   {"perf_data", result.perf_data},
                   {"perf_jit_data", result.perf_jit_data},
                   {"jitdump", result.jitdump},
                   {"descriptor_found", result.descriptor_found},
                   {"polls", result.polls},
                   {"changed_polls", result.changed_polls},
                   {"poll_errors", result.poll_errors},
                   {"entries_seen", result.entries_seen},
                   {"functions_loaded", result.functions_loaded},
                   {"functions_unloaded", result.functions_unloaded},
                   {"code_read_failures", result.code_read_failures},
                   {"max_poll_gap_ns", result.max_poll_gap_ns},
                   {"wall_s", result.wall_s},
                   {"poll_cpu_s", result.poll_cpu_s},
                   {"inject_s", result.inject_s}};
  Result<bool> written = WriteFileAtomically(dir + "/record.json", {j.dump(2) + "\n"});
  if (!written) return std::move(written).take_error();
  return result;
}

}  // namespace jitscope::perf
