// UnwindLiveProcess: stop every thread with PTRACE_SEIZE + PTRACE_INTERRUPT
// (invisible to the target, unlike SIGSTOP; a thread already in a group
// stop stays in it after we detach), read the registers, unwind each stack
// through process_vm_readv, detach all.
#include <dirent.h>
#include <errno.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>
#include <set>

#include "unwinder/process_info.h"
#include "unwinder/remote_memory.h"
#include "unwinder/unwinder.h"

namespace jitscope {
namespace {

// Thousands of threads is a real server; more is a runaway we do not walk.
constexpr size_t kMaxThreads = 1 << 16;
// Threads created while we stop the others are caught by rescanning
// /proc/PID/task; a process that keeps spawning gets this many rescans.
constexpr int kMaxScans = 16;

std::vector<pid_t> Tasks(pid_t pid) {
  std::vector<pid_t> tids;
  std::string path = "/proc/" + std::to_string(pid) + "/task";
  DIR* dir = opendir(path.c_str());
  if (!dir) return tids;
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    tids.push_back(static_cast<pid_t>(atoi(e->d_name)));
    if (tids.size() >= kMaxThreads) break;
  }
  closedir(dir);
  std::sort(tids.begin(), tids.end());
  return tids;
}

std::string ThreadName(pid_t pid, pid_t tid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/comm");
  std::string name;
  std::getline(in, name);
  return name;
}

std::string PermissionAdvice(pid_t pid) {
  return "permission denied tracing process " + std::to_string(pid) +
         ": run as the same user as the target (or root), check /proc/sys/kernel/yama/ptrace_scope "
         "(1 allows only descendants; set it to 0 or use sudo), and that no debugger is attached already";
}

// Seizes and interrupts one thread and waits until it is in a ptrace stop.
// errno-style code on failure (the thread is then not traced).
int StopThread(pid_t tid) {
  if (ptrace(PTRACE_SEIZE, tid, nullptr, nullptr) != 0) return errno;
  if (ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) != 0) {
    int err = errno;
    ptrace(PTRACE_DETACH, tid, nullptr, nullptr);
    return err;
  }
  int status = 0;
  if (waitpid(tid, &status, __WALL) != tid) {
    int err = errno;
    ptrace(PTRACE_DETACH, tid, nullptr, nullptr);
    return err;
  }
  if (!WIFSTOPPED(status)) return ESRCH;  // it exited meanwhile
  return 0;
}

// Detaches every thread it stopped when it goes out of scope, whatever
// path the unwind takes.
class ThreadStopper {
 public:
  ~ThreadStopper() {
    for (pid_t tid : stopped_) ptrace(PTRACE_DETACH, tid, nullptr, nullptr);
  }
  // 0 or the errno of the failure.
  int Stop(pid_t tid) {
    int err = StopThread(tid);
    if (err == 0) stopped_.insert(tid);
    return err;
  }
  bool stopped(pid_t tid) const { return stopped_.count(tid) != 0; }

 private:
  std::set<pid_t> stopped_;
};

}  // namespace

Result<std::vector<ThreadStack>> UnwindLiveProcess(pid_t pid, const std::vector<MapEntry>& maps,
                                                   const std::function<const JitSnapshot&()>& snapshot_after_stop,
                                                   std::optional<pid_t> only_tid, const UnwindOptions& options) {
  if (!ProcessExists(pid)) return Error{"process " + std::to_string(pid) + " does not exist"};
  std::vector<pid_t> tids = Tasks(pid);
  if (tids.empty()) return Error{"process " + std::to_string(pid) + " has no threads (it exited?)"};
  if (only_tid) {
    if (std::find(tids.begin(), tids.end(), *only_tid) == tids.end())
      return Error{"thread " + std::to_string(*only_tid) + " is not a thread of process " + std::to_string(pid)};
    tids = {*only_tid};
  }
  ThreadStopper stopper;
  std::map<pid_t, int> failures;  // tid -> errno
  std::set<pid_t> seen;
  for (int scan = 0; scan < kMaxScans; scan++) {
    bool added = false;
    for (pid_t tid : tids) {
      if (!seen.insert(tid).second) continue;
      added = true;
      int err = stopper.Stop(tid);
      if (err != 0 && err != ESRCH) failures[tid] = err;
    }
    if (!added || only_tid) break;
    tids = Tasks(pid);
  }
  size_t denied = 0;
  for (auto& [tid, err] : failures) denied += err == EPERM;
  if (denied > 0 && denied == seen.size()) return Error{PermissionAdvice(pid)};

  UnwindOptions opts = options;
  if (opts.pid == 0) opts.pid = pid;
  RemoteMemory memory(pid);
  const JitSnapshot& jit = snapshot_after_stop();
  StackUnwinder unwinder(memory, maps, jit, opts);
  std::vector<ThreadStack> stacks;
  for (pid_t tid : seen) {
    auto failed = failures.find(tid);
    if (!stopper.stopped(tid) && failed == failures.end()) continue;  // exited before we stopped it
    ThreadStack stack;
    stack.tid = tid;
    stack.name = ThreadName(pid, tid);
    if (failed != failures.end()) {
      stack.error = "cannot stop thread " + std::to_string(tid) + ": " + strerror(failed->second);
      stacks.push_back(std::move(stack));
      continue;
    }
    user_regs_struct raw{};
    if (ptrace(PTRACE_GETREGS, tid, nullptr, &raw) != 0) {
      stack.error = "cannot read the registers of thread " + std::to_string(tid) + ": " + strerror(errno);
    } else {
      static_assert(sizeof(raw) == sizeof(stack.regs));
      memcpy(&stack.regs, &raw, sizeof(raw));
      UnwindResult result = unwinder.Unwind(stack.regs);
      stack.frames = std::move(result.frames);
      stack.complete = result.complete;
      stack.stop_reason = std::move(result.stop_reason);
    }
    stacks.push_back(std::move(stack));
  }
  if (stacks.empty()) return Error{"process " + std::to_string(pid) + " exited during the unwind"};
  return stacks;
}

Result<std::vector<ThreadStack>> UnwindLiveProcess(pid_t pid, const std::vector<MapEntry>& maps, const JitSnapshot& jit,
                                                   std::optional<pid_t> only_tid, const UnwindOptions& options) {
  return UnwindLiveProcess(
      pid, maps, [&jit]() -> const JitSnapshot& { return jit; }, only_tid, options);
}

}  // namespace jitscope
