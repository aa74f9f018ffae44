// gdb unwinds through the code of foreign_jit, a JIT in plain C that only
// uses the C API: started under gdb and attached to while stopped (or
// spinning), the backtrace runs stop_here -> inner -> middle -> outer -> main
// with nothing unknown in between and no early stop. Every process started
// here is killed by the test.
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "harness/child_process.h"
#include "harness/paths.h"
#include "harness/tool_runner.h"

namespace jitscope::foreign_jit {
namespace {

using namespace std::chrono_literals;

// A shared 2-core machine may be busy building; gdb normally takes ~1 s.
constexpr std::chrono::milliseconds kToolTimeout = 30s;

std::string ForeignJitPath() { return testing::BinPath("foreign_jit"); }

struct Frame {
  std::string function;  // "??" when gdb could not name it
  std::string text;
};

// "#3  0x00007ffff7fc1010 in inner ()" or "#6  0x... in main (argc=1, ...) at f.c:9"
// or "#0  stop_here () at foreign_jit.c:40". Every "#0" starts a new backtrace:
// gdb may print the stop location as a lone frame #0 first.
std::vector<Frame> ParseBacktrace(const std::string& output) {
  static const std::regex kFrame(R"(^#(\d+)\s+(?:0x[0-9a-fA-F]+ in )?(\S+))");
  std::vector<Frame> frames;
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    std::smatch m;
    if (!std::regex_search(line, m, kFrame)) continue;
    if (m[1] == "0") frames.clear();
    frames.push_back(Frame{m[2], line});
  }
  return frames;
}

std::string Format(const std::vector<Frame>& frames) {
  std::string s;
  for (const Frame& f : frames) s += f.text + "\n";
  return s;
}

// Empty if the frames hold stop_here, inner, middle, outer, main directly
// one after another; otherwise what is wrong.
std::string JitChainProblem(const std::vector<Frame>& frames) {
  static const std::vector<std::string> kChain = {"stop_here", "inner", "middle", "outer", "main"};
  size_t start = 0;
  while (start < frames.size() && frames[start].function != kChain[0]) start++;
  if (start == frames.size()) return "no frame in stop_here";
  for (size_t i = 0; i < kChain.size(); i++) {
    if (start + i >= frames.size()) return "the backtrace ends before '" + kChain[i] + "'";
    if (frames[start + i].function != kChain[i])
      return "frame " + std::to_string(start + i) + " is '" + frames[start + i].function + "', expected '" +
             kChain[i] + "'";
  }
  return "";
}

bool PtraceDenied(const testing::ToolResult& r) {
  std::string all = r.out + r.err;
  return all.find("ptrace: Operation not permitted") != std::string::npos ||
         all.find("Could not trace the inferior process") != std::string::npos;
}

char ProcessState(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  size_t paren = all.rfind(')');  // the command name may hold spaces and parentheses
  return paren == std::string::npos || paren + 2 >= all.size() ? '?' : all[paren + 2];
}

// gdb kills what it started when it exits; if gdb itself timed out, the
// foreign JIT could stay stopped forever. Kill it only if it is still ours.
void KillLeftover(const std::string& output) {
  std::smatch m;
  static const std::regex kReady(R"(ready pid=(\d+))");
  if (!std::regex_search(output, m, kReady)) return;
  pid_t pid = static_cast<pid_t>(std::stol(m[1]));
  std::error_code error;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/exe", error);
  if (error) return;
  std::filesystem::path ours = std::filesystem::weakly_canonical(ForeignJitPath(), error);
  if (!error && exe == ours) kill(pid, SIGKILL);
}

void ExpectCompleteBacktrace(const testing::ToolResult& result) {
  std::vector<Frame> frames = ParseBacktrace(result.out);
  EXPECT_EQ(JitChainProblem(frames), "") << Format(frames) << result.Describe();
  EXPECT_EQ(result.out.find("Backtrace stopped"), std::string::npos) << result.Describe();
}

// Parameter: extra flags for foreign_jit ("", "--packed" or "--full").
class ForeignJitUnderGdb : public ::testing::TestWithParam<const char*> {
 protected:
  std::vector<std::string> ForeignJitArgs(const std::vector<std::string>& more = {}) const {
    std::vector<std::string> args = {ForeignJitPath()};
    args.insert(args.end(), more.begin(), more.end());
    if (std::string(GetParam()) != "") args.push_back(GetParam());
    return args;
  }
};

TEST_P(ForeignJitUnderGdb, RunThenBacktraceUnwindsThroughJitCodeToMain) {
  JITSCOPE_REQUIRE_TOOL(gdb, "gdb");
  std::vector<std::string> argv = {gdb, "-batch", "-nx", "-ex", "set width 0", "-ex", "run", "-ex", "bt", "--args"};
  for (const std::string& a : ForeignJitArgs()) argv.push_back(a);
  testing::ToolResult result = testing::RunTool(argv, kToolTimeout);
  KillLeftover(result.out);
  if (PtraceDenied(result)) GTEST_SKIP() << "this machine does not permit ptrace";
  ASSERT_FALSE(result.timed_out) << result.Describe();
  ASSERT_NE(result.out.find("SIGSTOP"), std::string::npos) << "foreign_jit did not stop\n" << result.Describe();
  ExpectCompleteBacktrace(result);
  // Full mode: the line table was registered; outer called middle from line 11.
  if (std::string(GetParam()) == "--full") {
    EXPECT_NE(result.out.find("in outer () at foreign.jit:11"), std::string::npos) << result.Describe();
  }
}

TEST_P(ForeignJitUnderGdb, AttachToStoppedProcessAndBacktrace) {
  JITSCOPE_REQUIRE_TOOL(gdb, "gdb");
  std::string error;
  testing::LaunchOptions options;
  options.argv = ForeignJitArgs();
  std::unique_ptr<testing::ChildProcess> child = testing::ChildProcess::Start(options, &error);
  ASSERT_NE(child, nullptr) << error;
  ASSERT_TRUE(child->WaitForOutput("ready", kToolTimeout)) << child->Stdout() << child->Stderr();
  auto deadline = std::chrono::steady_clock::now() + kToolTimeout;
  while (ProcessState(child->pid()) != 'T' && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  ASSERT_EQ(ProcessState(child->pid()), 'T') << "foreign_jit did not stop itself";

  testing::ToolResult result = testing::RunTool(
      {gdb, "-batch", "-nx", "-p", std::to_string(child->pid()), "-ex", "set width 0", "-ex", "bt"}, kToolTimeout);
  if (PtraceDenied(result)) GTEST_SKIP() << "this machine does not permit ptrace";
  ASSERT_FALSE(result.timed_out) << result.Describe();
  ExpectCompleteBacktrace(result);
  child->Stop(100ms);  // a stopped process ignores SIGTERM until SIGKILL
}

TEST_P(ForeignJitUnderGdb, AttachToRunningProcessAndBacktrace) {
  JITSCOPE_REQUIRE_TOOL(gdb, "gdb");
  std::string error;
  testing::LaunchOptions options;
  options.argv = ForeignJitArgs({"--spin"});
  std::unique_ptr<testing::ChildProcess> child = testing::ChildProcess::Start(options, &error);
  ASSERT_NE(child, nullptr) << error;
  ASSERT_TRUE(child->WaitForOutput("ready", kToolTimeout)) << child->Stdout() << child->Stderr();

  testing::ToolResult result = testing::RunTool(
      {gdb, "-batch", "-nx", "-p", std::to_string(child->pid()), "-ex", "set width 0", "-ex", "bt"}, kToolTimeout);
  if (PtraceDenied(result)) GTEST_SKIP() << "this machine does not permit ptrace";
  ASSERT_FALSE(result.timed_out) << result.Describe();
  ExpectCompleteBacktrace(result);
  child->Stop(100ms);
}

// jitscope maps reads the foreign JIT's registrations from outside (no
// debugger): its three functions, in whatever layout the C API produced.
TEST_P(ForeignJitUnderGdb, JitscopeMapsListsItsFunctions) {
  std::string error;
  testing::LaunchOptions options;
  options.argv = ForeignJitArgs({"--spin"});
  std::unique_ptr<testing::ChildProcess> child = testing::ChildProcess::Start(options, &error);
  ASSERT_NE(child, nullptr) << error;
  ASSERT_TRUE(child->WaitForOutput("ready", kToolTimeout)) << child->Stdout() << child->Stderr();
  testing::ToolResult maps =
      testing::RunTool({testing::BinPath("jitscope"), "maps", std::to_string(child->pid())}, kToolTimeout);
  ASSERT_EQ(maps.exit_code, 0) << maps.Describe();
  // The name column is last, or followed by "  file:line" in full mode.
  for (const char* name : {"inner", "middle", "outer"})
    EXPECT_TRUE(std::regex_search(maps.out, std::regex(std::string(" ") + name + "(\\n|  )")))
        << name << " missing:\n" << maps.out;
  EXPECT_NE(maps.out.find("[jit: 3 functions]"), std::string::npos) << maps.out;
  child->Stop(100ms);
}

// Without a debugger the generated code runs to the end: it computes what it
// should, and removing the code and destroying the context succeed.
TEST_P(ForeignJitUnderGdb, RunsToCompletionWithoutDebugger) {
  testing::ToolResult result = testing::RunTool(ForeignJitArgs({"--no-stop"}), kToolTimeout);
  ASSERT_FALSE(result.timed_out) << result.Describe();
  EXPECT_EQ(result.exit_code, 0) << result.Describe();
  EXPECT_NE(result.out.find("done 1107"), std::string::npos) << result.Describe();
}

INSTANTIATE_TEST_SUITE_P(Registration, ForeignJitUnderGdb, ::testing::Values("", "--packed", "--full"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           std::string flag = info.param;
                           if (flag.empty()) return std::string("Single");
                           return flag == "--packed" ? std::string("PackedCompressed") : std::string("FullLines");
                         });

}  // namespace
}  // namespace jitscope::foreign_jit
