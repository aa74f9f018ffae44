// What the debug-info mode tests share: the three debug-info modes and the
// flags that select them, scripts in tests/integration_modes/lua, a jitvm
// that can be continued from one vmtest.stop_here() to the next, gdb and
// lldb attached to a running or stopped VM, and finding the VM's thread in
// `thread apply all bt`.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "../integration/backtrace_parser.h"
#include "../integration/jitvm_under_test.h"
#include "harness/child_process.h"
#include "harness/temp_dir.h"
#include "harness/tool_runner.h"

namespace jitscope::integration {

// How the registered debug info of mini mode is laid out.
enum class DebugLayout {
  kUnpacked,    // one ELF per function
  kPacked,      // every 64 new functions, one ELF per 64 KiB code range
  kCompressed,  // packed groups xz-compressed into .gnu_debugdata at once
};

struct DebugMode {
  DebugLayout layout;
  const char* name;  // for test names: "unpacked"
  std::vector<std::string> flags;
};

const std::vector<DebugMode>& AllDebugModes();
const DebugMode& ModeFor(DebugLayout layout);

// tests/integration_modes/lua/NAME; chunk names (and so JIT symbol names)
// use the basename.
std::string ModesScriptPath(const std::string& name);
// "FNAME@SCRIPT:LINE", the name jitvm gives `local function FNAME(` of
// `script` (in tests/integration_modes/lua); empty if the script has none.
std::string LuaFunctionName(const std::string& script, const std::string& fname);

// jitvm started directly on a script of tests/integration_modes/lua that
// calls vmtest.stop_here() one or more times.
class StoppingJitvm {
 public:
  // Waits for the first stop; nullptr and *error set if jitvm does not start
  // or does not stop in time.
  static std::unique_ptr<StoppingJitvm> Start(const std::vector<std::string>& jitvm_flags,
                                              const std::string& script, std::string* error);

  // SIGCONT, then waits for the next stop; false and *error set otherwise.
  bool ContinueToNextStop(std::string* error);

  pid_t pid() const { return child_->pid(); }
  // The VM's view of its stack at the latest stop.
  const std::vector<GroundTruthFrame>& ground_truth() const { return ground_truth_; }
  std::string Describe() const;

 private:
  StoppingJitvm() = default;
  bool WaitForStop(std::string* error);

  std::unique_ptr<testing::TempDir> temp_dir_;
  std::string truth_path_;
  std::unique_ptr<testing::ChildProcess> child_;  // killed and reaped by its destructor
  std::vector<GroundTruthFrame> ground_truth_;
};

// `gdb -batch -nx -p PID` with `set width 0` and `commands`; gdb detaches
// at exit, leaving the process as it was.
testing::ToolResult AttachGdb(const std::string& gdb, pid_t pid, const std::vector<std::string>& commands);

// `lldb -b` with the GDB JIT loader enabled before attaching to `pid`, then
// `commands`, then a detach.
testing::ToolResult AttachLldb(const std::string& lldb, pid_t pid, const std::vector<std::string>& commands);

bool PtraceDenied(const testing::ToolResult& result);

// The backtrace, among gdb's `thread apply all bt` output, of the thread
// that has a frame whose function contains `marker`; empty if none does.
std::vector<DebuggerFrame> ThreadWithFrame(const std::string& gdb_output, const std::string& marker);

// Empty if `expected` appear in `names` in that order, innermost first (other
// names may come between); otherwise says which one is missing.
std::string MissingInOrder(const std::vector<std::string>& names, const std::vector<std::string>& expected);

}  // namespace jitscope::integration
