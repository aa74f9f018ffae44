// Runs an outside tool (gdb, lldb, perf, readelf, xz, lua5.1, jitscope...)
// to completion with a timeout, capturing its output.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace jitscope::testing {

struct ToolResult {
  bool started = false;
  bool timed_out = false;  // killed after the timeout
  int exit_code = -1;      // or 128 + signal
  std::string out;
  std::string err;
  std::string launch_error;  // when !started

  // For assertion messages: everything a failing test should show.
  std::string Describe() const;
};

struct LaunchOptions;
// The general form: any launch options (working directory, environment...).
ToolResult RunTool(const LaunchOptions& options, std::chrono::milliseconds timeout);
ToolResult RunTool(const std::vector<std::string>& argv,
                   std::chrono::milliseconds timeout = std::chrono::seconds(60),
                   const std::vector<std::string>& env = {});

}  // namespace jitscope::testing
