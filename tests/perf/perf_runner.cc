#include "perf_runner.h"

#include <filesystem>
#include <regex>

#include "harness/child_process.h"
#include "harness/paths.h"
#include "harness/temp_dir.h"

namespace jitscope::perf_test {

const std::string& PerfUnavailableReason() {
  // Probed once per test binary: the answer cannot change while it runs.
  static const std::string reason = [] {
    if (!testing::FindTool("perf")) return std::string("this machine lacks 'perf' in PATH");
    testing::TempDir dir;
    testing::ToolResult probe = RunPerf({"record", "-e", "cpu-clock", "-o", dir.File("probe.data"), "true"});
    if (probe.exit_code == 0) return std::string();
    return "perf_event_open is not permitted here (`perf record -e cpu-clock true` failed: " + probe.Describe() + ")";
  }();
  return reason;
}

std::string PerfPath() { return testing::FindTool("perf").value_or("/usr/bin/perf"); }
std::string JitvmBinary() { return testing::BinPath("jitvm"); }
std::string JitscopeBinary() { return testing::BinPath("jitscope"); }
std::string PerfLuaScript(const std::string& name) { return testing::SourcePath("tests/perf/lua/" + name); }

testing::ToolResult RunPerf(const std::vector<std::string>& args, std::chrono::milliseconds timeout) {
  std::vector<std::string> argv = {PerfPath()};
  argv.insert(argv.end(), args.begin(), args.end());
  return testing::RunTool(argv, timeout);
}

testing::ToolResult PerfRecord(const std::string& out, const std::vector<std::string>& extra,
                               const std::vector<std::string>& command, const std::string& working_dir,
                               int frequency) {
  testing::LaunchOptions options;
  options.argv = {PerfPath(), "record", "-k", "1", "-e", "cpu-clock", "-F", std::to_string(frequency), "-N"};
  options.argv.insert(options.argv.end(), extra.begin(), extra.end());
  options.argv.insert(options.argv.end(), {"-o", out, "--"});
  options.argv.insert(options.argv.end(), command.begin(), command.end());
  options.working_dir = working_dir;
  return testing::RunTool(options, kPerfTimeout);
}

testing::ToolResult PerfInjectJit(const std::string& in, const std::string& out) {
  return RunPerf({"inject", "--jit", "-i", in, "-o", out});
}

std::optional<std::vector<PerfSample>> PerfScriptSamples(const std::string& data, bool hide_call_graph,
                                                         std::string* error) {
  std::vector<std::string> args = {"script", "-i", data, "-F", "pid,tid,time,ip,sym,dso", "--ns"};
  if (hide_call_graph) args.push_back("-G");
  testing::ToolResult script = RunPerf(args);
  if (script.exit_code != 0) {
    *error = "perf script failed: " + script.Describe();
    return std::nullopt;
  }
  std::optional<std::vector<PerfSample>> samples = ParsePerfScript(script.out, error);
  if (!samples) *error = "cannot parse perf script of " + data + ": " + *error;
  return samples;
}

std::optional<std::string> FindJitdump(const std::string& dir, int* pid, std::string* error) {
  static const std::regex kDumpName(R"(jit-([0-9]+)\.dump)");
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    std::smatch match;
    if (std::regex_match(name, match, kDumpName)) {
      found.push_back(entry.path().string());
      *pid = std::stoi(match[1].str());
    }
  }
  if (found.size() != 1) {
    std::string listing;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      listing += " " + entry.path().filename().string();
    }
    *error = "expected exactly one jit-PID.dump in " + dir + ", found " + std::to_string(found.size()) +
             "; the directory has:" + listing;
    return std::nullopt;
  }
  return found.front();
}

}  // namespace jitscope::perf_test
