#include "jitdump_profile.h"

#include "harness/tool_runner.h"

namespace jitscope::perf_test {

std::optional<JitdumpProfile> ProfileWithJitdump(const std::string& dir, const JitdumpProfileOptions& options,
                                                 std::string* error) {
  JitdumpProfile profile;
  std::string events = dir + "/events.log";
  std::vector<std::string> command = {JitvmBinary(), "--jitdump=" + dir, "--jit-event-log=" + events};
  command.insert(command.end(), options.jitvm_flags.begin(), options.jitvm_flags.end());
  command.push_back(PerfLuaScript(options.script));
  testing::ToolResult record = PerfRecord(dir + "/perf.data", options.record_flags, command, dir, options.frequency);
  if (record.exit_code != 0) {
    *error = "perf record of jitvm failed: " + record.Describe();
    return std::nullopt;
  }
  std::optional<std::string> dump = FindJitdump(dir, &profile.pid, error);
  if (!dump) return std::nullopt;
  profile.dump_path = *dump;
  profile.injected = dir + "/perf.jit.data";
  testing::ToolResult inject = PerfInjectJit(dir + "/perf.data", profile.injected);
  if (inject.exit_code != 0) {
    *error = "perf inject --jit failed: " + inject.Describe();
    return std::nullopt;
  }
  std::optional<JitEventLog> log = JitEventLog::Read(events, error);
  if (!log) return std::nullopt;
  profile.log = std::move(*log);
  std::optional<std::vector<PerfSample>> samples = PerfScriptSamples(profile.injected, options.hide_call_graph, error);
  if (!samples) return std::nullopt;
  profile.samples = std::move(*samples);
  return profile;
}

}  // namespace jitscope::perf_test
