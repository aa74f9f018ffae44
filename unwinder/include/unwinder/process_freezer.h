// Stops every thread of a process with ptrace (PTRACE_SEIZE + PTRACE_INTERRUPT,
// which unlike SIGSTOP is invisible to the target and its parent) and lets
// them go again when destroyed (PTRACE_DETACH). For readers of descriptors
// that have no seqlock (plain GDB JIT interface): a frozen target cannot
// change its list during the copy. Threads created while freezing are
// caught by rescanning /proc/PID/task until no new thread appears.
#pragma once

#include <sys/types.h>

#include <set>
#include <string>

#include "debuginfo/result.h"

namespace jitscope {

class ProcessFreezer {
 public:
  ProcessFreezer() = default;
  ~ProcessFreezer() { Thaw(); }
  ProcessFreezer(const ProcessFreezer&) = delete;
  ProcessFreezer& operator=(const ProcessFreezer&) = delete;

  // Errors name the thread and say what to do (permissions, ptrace_scope).
  Result<bool> Freeze(pid_t pid);
  void Thaw();
  size_t threads() const { return tids_.size(); }

 private:
  std::set<pid_t> tids_;
};

}  // namespace jitscope
