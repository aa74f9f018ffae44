// jitscope record's failures: each is one line on stderr and exit 1 (2 for a
// bad command line), and nothing is left running (the launched command, the
// jitdump marker and perf are all reaped).
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "harness/paths.h"
#include "harness/temp_dir.h"
#include "harness/tool_runner.h"

namespace jitscope::perf_test {
namespace {

using jitscope::testing::BinPath;
using jitscope::testing::RunTool;
using jitscope::testing::TempDir;
using jitscope::testing::ToolResult;

size_t LineCount(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

std::string ReadFirstLine(const std::string& path) {
  FILE* f = fopen(path.c_str(), "r");
  if (!f) return "";
  char buf[256] = {};
  if (!fgets(buf, sizeof(buf), f)) buf[0] = '\0';
  fclose(f);
  std::string s(buf);
  if (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

// A marker whose jitscope has exited was leaked (it would have been
// reparented); markers of recordings still running elsewhere are fine.
bool NoMarkerLeft() {
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::string dir = entry.path().string();
    if (ReadFirstLine(dir + "/comm").rfind("jitscope-marker", 0) != 0) continue;
    std::string status;
    FILE* f = fopen((dir + "/status").c_str(), "r");
    if (!f) continue;
    char line[256];
    std::string ppid;
    while (fgets(line, sizeof(line), f))
      if (strncmp(line, "PPid:", 5) == 0) ppid = std::to_string(atoi(line + 5));
    fclose(f);
    if (ReadFirstLine("/proc/" + ppid + "/comm") != "jitscope") return false;
  }
  return true;
}

TEST(RecordErrors, MissingProcess) {
  TempDir dir;
  ToolResult r = RunTool({BinPath("jitscope"), "record", "-o", dir.File("r"), "-p", "12ab"});
  EXPECT_EQ(r.exit_code, 2) << r.Describe();  // not a pid: a usage error
  r = RunTool({BinPath("jitscope"), "record", "-o", dir.File("r"), "-p", "4194000"});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.Describe();
  EXPECT_EQ(LineCount(r.err), 1u) << r.Describe();
}

TEST(RecordErrors, CommandThatCannotRun) {
  TempDir dir;
  ToolResult r = RunTool({BinPath("jitscope"), "record", "-o", dir.File("r"), "--", "/nonexistent/program"},
                         std::chrono::seconds(60));
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_NE(r.err.find("cannot run '/nonexistent/program'"), std::string::npos) << r.Describe();
  EXPECT_EQ(LineCount(r.err), 1u) << r.Describe();
  EXPECT_TRUE(NoMarkerLeft());
}

TEST(RecordErrors, PerfMissing) {
  TempDir dir;
  ToolResult r = RunTool({BinPath("jitscope"), "record", "-o", dir.File("r"), "--", "/bin/true"},
                         std::chrono::seconds(60), {"PATH=/nonexistent"});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_NE(r.err.find("cannot run 'perf'"), std::string::npos) << r.Describe();
  EXPECT_TRUE(NoMarkerLeft());
}

TEST(RecordErrors, BadCommandLines) {
  for (std::vector<std::string> args : {std::vector<std::string>{"record"},
                                        {"record", "--freq", "0", "--", "/bin/true"},
                                        {"record", "--call-graph", "lbr", "--", "/bin/true"},
                                        {"record", "-p", "1", "--", "/bin/true"},
                                        {"record", "--duration", "-1", "-p", "1"}}) {
    args.insert(args.begin(), BinPath("jitscope"));
    ToolResult r = RunTool(args);
    EXPECT_EQ(r.exit_code, 2) << r.Describe();
  }
}

TEST(RecordErrors, OutputThatIsNotADirectory) {
  TempDir dir;
  ToolResult r = RunTool({BinPath("jitscope"), "record", "-o", "/proc/version", "--", "/bin/true"});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_NE(r.err.find("/proc/version"), std::string::npos) << r.Describe();
}

}  // namespace
}  // namespace jitscope::perf_test
