// jitvm --perf-map: /tmp/perf-PID.map gets one "START SIZE name" line (hex,
// no 0x) per code load, in load order, exactly the event log's loads, and
// perf report, which reads the map at report time, names the hot Lua
// functions of hot.lua. (A map has no notion of time; reused addresses are
// the jitdump tests' business.)
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>

#include "attribution.h"
#include "harness/temp_dir.h"
#include "jit_event_log.h"
#include "perf_runner.h"
#include "perf_script.h"

namespace jitscope::perf_test {
namespace {

// perf report --sort sym lines: "    33.05%  [.] fib@hot.lua:6".
constexpr double kMinReportPercent = 5.0;  // each hot function runs a third of the time

// The map is the VM's, in a shared directory: never leave it behind.
class RemoveOnExit {
 public:
  explicit RemoveOnExit(std::string path) : path_(std::move(path)) {}
  ~RemoveOnExit() {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
  }
  RemoveOnExit(const RemoveOnExit&) = delete;
  RemoveOnExit& operator=(const RemoveOnExit&) = delete;

 private:
  std::string path_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The percentage perf report gives `name`; 0 if it is not listed.
double ReportPercent(const std::string& report, const std::string& name) {
  std::istringstream lines(report);
  for (std::string line; std::getline(lines, line);) {
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    size_t at = line.find(name);
    // The symbol is the end of the line; do not match a longer name.
    if (at == std::string::npos || at + name.size() != line.size()) continue;
    return std::strtod(line.c_str(), nullptr);
  }
  return 0.0;
}

TEST(PerfMap, ListsEveryLoadAndPerfReportNamesTheHotFunctions) {
  JITSCOPE_REQUIRE_PERF();
  testing::TempDir dir;
  std::string events = dir.File("events.log");
  std::string data = dir.File("perf.data");
  testing::ToolResult record = PerfRecord(
      data, {}, {JitvmBinary(), "--perf-map", "--jit-event-log=" + events, PerfLuaScript("hot.lua")}, dir.path());
  ASSERT_EQ(record.exit_code, 0) << record.Describe();
  std::string error;
  std::optional<std::vector<PerfSample>> samples = PerfScriptSamples(data, /*hide_call_graph=*/false, &error);
  ASSERT_TRUE(samples) << error;
  int pid = MostSampledPid(*samples);
  ASSERT_NE(pid, 0) << "perf recorded no samples";
  std::string map_path = "/tmp/perf-" + std::to_string(pid) + ".map";
  RemoveOnExit remove_map(map_path);
  ASSERT_TRUE(std::filesystem::exists(map_path)) << "jitvm (pid " << pid << ") wrote no " << map_path;

  std::optional<JitEventLog> log = JitEventLog::Read(events, &error);
  ASSERT_TRUE(log) << error;
  static const std::regex kLine(R"(([0-9a-f]+) ([0-9a-f]+) (\S.*))");
  std::istringstream map(ReadFile(map_path));
  size_t index = 0;
  int line_number = 0;
  for (std::string line; std::getline(map, line);) {
    line_number++;
    std::smatch match;
    ASSERT_TRUE(std::regex_match(line, match, kLine)) << map_path << ":" << line_number << " is not 'START SIZE name' "
                                                      << "in hex without 0x: " << line;
    ASSERT_LT(index, log->lifetimes().size()) << map_path << ":" << line_number
                                              << " is more than the event log's loads: " << line;
    const CodeLifetime& load = log->lifetimes()[index++];
    EXPECT_EQ(std::stoull(match[1].str(), nullptr, 16), load.addr) << map_path << ":" << line_number << " " << line;
    EXPECT_EQ(std::stoull(match[2].str(), nullptr, 16), load.size) << map_path << ":" << line_number << " " << line;
    EXPECT_EQ(match[3].str(), load.name) << map_path << ":" << line_number;
  }
  EXPECT_EQ(index, log->lifetimes().size()) << "the map has " << index << " lines for "
                                            << log->lifetimes().size() << " loads";

  // For the report only (a map cannot do better than this for code whose
  // addresses are never reused): the by-time rule of the jitdump tests.
  Attribution by_time = Attribute(*samples, *log, pid);
  std::cout << "[perf map] perf script with the map: " << by_time.Describe() << "\n";

  testing::ToolResult report = RunPerf({"report", "-i", data, "--stdio", "--sort", "sym"});
  ASSERT_EQ(report.exit_code, 0) << report.Describe();
  for (const char* lua_name : {"fib", "sum_squares", "harmonic"}) {
    std::string name = log->NameOf(lua_name);
    ASSERT_FALSE(name.empty()) << lua_name << " was never compiled";
    EXPECT_GE(ReportPercent(report.out, name), kMinReportPercent)
        << "perf report does not name " << name << " with at least " << kMinReportPercent << "%:\n"
        << report.out.substr(0, 4000);
  }
}

}  // namespace
}  // namespace jitscope::perf_test
