#include "harness/tool_runner.h"

#include "harness/child_process.h"

namespace jitscope::testing {

std::string ToolResult::Describe() const {
  if (!started) return "not started: " + launch_error;
  std::string text = timed_out ? "timed out" : "exit code " + std::to_string(exit_code);
  return text + "\n--- stdout ---\n" + out + "\n--- stderr ---\n" + err;
}

ToolResult RunTool(const LaunchOptions& options, std::chrono::milliseconds timeout) {
  ToolResult result;
  std::unique_ptr<ChildProcess> child = ChildProcess::Start(options, &result.launch_error);
  if (child == nullptr) return result;
  result.started = true;
  std::optional<int> status = child->Wait(timeout);
  if (!status) {
    result.timed_out = true;
    status = child->Stop(/*grace=*/std::chrono::milliseconds(500));
  }
  result.exit_code = *status;
  result.out = child->Stdout();
  result.err = child->Stderr();
  return result;
}

ToolResult RunTool(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                   const std::vector<std::string>& env) {
  LaunchOptions options;
  options.argv = argv;
  options.env = env;
  return RunTool(options, timeout);
}

}  // namespace jitscope::testing
