// A jitvm started by an integration test, directly or under a debugger, that
// runs a script from tests/integration/lua until vmtest.stop_here(): where
// the script and binaries are, the VM's own view of its stack at the stop
// (the ground truth the debuggers are compared with), and cleanup of VMs
// that a debugger started and may have left behind.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "harness/child_process.h"
#include "harness/temp_dir.h"
#include "harness/tool_runner.h"

namespace jitscope::integration {

// Generous for a 2-core machine shared with parallel builds; every test
// stays well under its ctest timeout even when one step uses all of it.
constexpr std::chrono::milliseconds kToolTimeout = std::chrono::seconds(20);

std::string JitvmPath();
std::string JitscopePath();
// tests/integration/lua: tools run there so scripts are named by basename,
// which is also the chunk name jitvm uses in symbol names.
std::string LuaDir();
std::string LuaScriptPath(const std::string& name);
// 1-based number of the first line of `script` (in LuaDir) containing
// `text`; 0 if none does.
int LineContaining(const std::string& script, const std::string& text);

std::string ReadWholeFile(const std::string& path);

// One line of vmtest.stop_here()'s output: "NAME TIER".
struct GroundTruthFrame {
  std::string name;  // e.g. "fib@fib.lua:7"
  std::string tier;  // "interp", "baseline" or "osr"
};
std::vector<GroundTruthFrame> ParseGroundTruth(const std::string& text);
// Names of the compiled frames, innermost first: what a debugger can name.
std::vector<std::string> CompiledFrameNames(const std::vector<GroundTruthFrame>& frames);

// Runs argv to completion in LuaDir() with extra environment, like
// testing::RunTool (which has no working directory).
testing::ToolResult RunInLuaDir(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                                std::chrono::milliseconds timeout = kToolTimeout);

// A debugger kills the VM it started when it exits; if it could not (it
// timed out and was killed itself), the VM would stay stopped forever.
// Kills `pid` only if it is still a jitvm from this build.
void KillLeftoverJitvm(pid_t pid);

// jitvm started directly, stopped (SIGSTOP) in vmtest.stop_here().
class StoppedJitvm {
 public:
  // nullptr and *error set if jitvm does not start or does not stop in time.
  static std::unique_ptr<StoppedJitvm> Start(const std::vector<std::string>& jitvm_flags,
                                             const std::string& script, std::string* error);

  pid_t pid() const { return child_->pid(); }
  const std::vector<GroundTruthFrame>& ground_truth() const { return ground_truth_; }
  std::string Describe() const;  // the VM's output, for assertion messages

 private:
  StoppedJitvm() = default;

  std::unique_ptr<testing::TempDir> temp_dir_;
  std::unique_ptr<testing::ChildProcess> child_;  // killed (SIGKILL works while stopped) and reaped
  std::vector<GroundTruthFrame> ground_truth_;
};

}  // namespace jitscope::integration
