#include "unwinder/process_freezer.h"

#include <dirent.h>
#include <errno.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include <cstdlib>
#include <cstring>

namespace jitscope {
namespace {

// Threads of a busy process can keep spawning; give up after this many scans.
constexpr int kMaxScans = 16;

std::set<pid_t> Tasks(pid_t pid) {
  std::set<pid_t> tids;
  std::string path = "/proc/" + std::to_string(pid) + "/task";
  DIR* dir = opendir(path.c_str());
  if (!dir) return tids;
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    tids.insert(static_cast<pid_t>(atoi(e->d_name)));
  }
  closedir(dir);
  return tids;
}

}  // namespace

Result<bool> ProcessFreezer::Freeze(pid_t pid) {
  for (int scan = 0; scan < kMaxScans; scan++) {
    std::set<pid_t> now = Tasks(pid);
    if (now.empty()) return Error{"process " + std::to_string(pid) + " does not exist"};
    bool added = false;
    for (pid_t tid : now) {
      if (tids_.count(tid)) continue;
      if (ptrace(PTRACE_SEIZE, tid, nullptr, nullptr) != 0) {
        if (errno == ESRCH) continue;  // exited meanwhile
        int err = errno;
        Thaw();
        if (err == EPERM)
          return Error{"cannot stop thread " + std::to_string(tid) +
                       " with ptrace: permission denied (same user or root; check "
                       "/proc/sys/kernel/yama/ptrace_scope; a debugger may be attached already)"};
        return Error{"cannot stop thread " + std::to_string(tid) + ": " + strerror(err)};
      }
      tids_.insert(tid);
      added = true;
      if (ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) == 0) {
        int status = 0;
        waitpid(tid, &status, __WALL);
      }
    }
    if (!added) return true;
  }
  return true;  // still spawning: what we hold is stopped
}

void ProcessFreezer::Thaw() {
  for (pid_t tid : tids_) ptrace(PTRACE_DETACH, tid, nullptr, nullptr);
  tids_.clear();
}

}  // namespace jitscope
