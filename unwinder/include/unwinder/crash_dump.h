// The crash dumper behind `jitscope crash-dump` (started by a crashing
// process's signal handler, like Android's crash_dump): stops every thread
// of the crashed process with ptrace, reads the faulting thread's registers
// from its ucontext, copies the JIT debug info, unwinds and captures memory,
// and returns a Tombstone. The request protocol (text on the dumper's stdin)
// is documented in docs/tombstones.md.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "debuginfo/result.h"
#include "unwinder/tombstone.h"

namespace jitscope {

struct CrashRequest {
  pid_t pid = 0;
  pid_t tid = 0;
  int signal = 0;
  int code = 0;
  uint64_t fault_address = 0;
  uint64_t siginfo = 0;   // address of the siginfo_t in the target
  uint64_t ucontext = 0;  // address of the ucontext_t in the target (0: use PTRACE_GETREGS)
  uint64_t signal_time_ns = 0;
  std::string tombstone_path;
};

// "jitscope-crash 1\nkey=value\n...end\n". Errors name the bad line.
Result<CrashRequest> ParseCrashRequest(std::string_view text);

struct CrashDumpOptions {
  // Stack bytes copied from sp: the crashing thread's are enough to
  // re-unwind a few hundred frames offline; others get less.
  size_t crash_stack_bytes = 64 * 1024;
  size_t other_stack_bytes = 32 * 1024;
  size_t max_frames = 256;
};

// Leaves every thread as it found it (detached, pending signals re-injected).
Result<Tombstone> DumpCrashedProcess(const CrashRequest& request, const CrashDumpOptions& options = {});

}  // namespace jitscope
