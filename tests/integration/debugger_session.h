// gdb and lldb in batch mode, starting jitvm themselves on a script from
// tests/integration/lua with JITVM_GROUND_TRUTH set, so that a test gets
// the debugger's output and the VM's own view of its stack side by side.
// The debugger kills the VM when it exits; a VM left behind is killed too.
#pragma once

#include <string>
#include <vector>

#include "harness/tool_runner.h"
#include "jitvm_under_test.h"

namespace jitscope::integration {

struct DebuggerRun {
  testing::ToolResult result;
  // Empty if the VM never reached vmtest.stop_here().
  std::vector<GroundTruthFrame> ground_truth;

  // True if the machine forbids tracing (a facility missing, not a bug).
  bool PtraceDenied() const;
  std::string Describe() const;  // debugger output and ground truth
};

// `gdb -batch -nx` with `set pagination off`, `set width 0`, then
// `commands`, on `jitvm_args` (flags then the script).
DebuggerRun RunGdb(const std::vector<std::string>& commands, const std::vector<std::string>& jitvm_args);

// `lldb -b` with the GDB JIT loader enabled (off by default on Linux), then
// `commands`, on `jitvm_args`.
DebuggerRun RunLldb(const std::vector<std::string>& commands, const std::vector<std::string>& jitvm_args);

}  // namespace jitscope::integration
