// jitvm's crash handler and the crash dumper, end to end: every crash kind,
// from the VM thread and from a background thread, leaves one tombstone,
// the process still dies with the original signal, and a copy of the
// tombstone alone (original directory deleted) symbolizes the JIT frames.
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "harness/child_process.h"
#include "harness/paths.h"
#include "harness/temp_dir.h"
#include "harness/tool_runner.h"

namespace jitscope::testing {
namespace {

using namespace std::chrono_literals;

struct CrashKind {
  std::string kind;
  int signal;
  bool thread;
  // Whether the faulting pc itself is compiled Lua code.
  bool fault_in_jit;
};

std::string CaseName(const ::testing::TestParamInfo<CrashKind>& info) {
  std::string name = info.param.kind + (info.param.thread ? "_thread" : "_main");
  for (char& c : name)
    if (c == '-') c = '_';
  return name;
}

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    closedir(d);
  }
  return names;
}

struct Crash {
  ToolResult result;
  std::vector<std::string> tombstones;  // names in the tombstone directory
};

Crash RunCrash(const TempDir& dir, const std::string& kind, bool thread, const std::vector<std::string>& extra_flags = {},
               const std::vector<std::string>& extra_env = {}) {
  LaunchOptions launch;
  launch.argv = {BinPath("jitvm"), "--test-builtins", "--jit-threshold=0"};
  launch.argv.insert(launch.argv.end(), extra_flags.begin(), extra_flags.end());
  launch.argv.push_back(SourcePath("tests/tombstone/lua/crash_nested.lua"));
  launch.argv.push_back(kind);
  if (thread) launch.argv.push_back("thread");
  launch.env = {"JITSCOPE_TOMBSTONE_DIR=" + dir.File("tombstones")};
  launch.env.insert(launch.env.end(), extra_env.begin(), extra_env.end());
  launch.working_dir = dir.path();
  Crash crash;
  crash.result = RunTool(launch, 90s);
  crash.tombstones = ListDir(dir.File("tombstones"));
  return crash;
}

// Copies the tombstone into a fresh directory and deletes the original
// directory, so the reader has nothing but the file.
std::string MoveToFreshDir(const std::string& from, const TempDir& to) {
  std::string copy = to.File("crash.tombstone");
  std::filesystem::copy_file(from, copy);
  std::filesystem::remove_all(std::filesystem::path(from).parent_path());
  return copy;
}

ToolResult Symbolize(const TempDir& dir, const std::string& file, const std::vector<std::string>& flags = {}) {
  LaunchOptions launch;
  launch.argv = {BinPath("jitscope"), "tombstone", file};
  launch.argv.insert(launch.argv.end(), flags.begin(), flags.end());
  launch.working_dir = dir.path();
  return RunTool(launch, 60s);
}

const std::vector<std::string> kLuaFunctions = {"crash_here@crash_nested.lua:", "level3@crash_nested.lua:",
                                                "level2@crash_nested.lua:", "level1@crash_nested.lua:"};

class CrashKinds : public ::testing::TestWithParam<CrashKind> {};

TEST_P(CrashKinds, WritesATombstoneThatSymbolizesOffline) {
  const CrashKind& c = GetParam();
  TempDir dir;
  Crash crash = RunCrash(dir, c.kind, c.thread);
  // Dies as it would without the handler: same signal (128 + signal from the harness).
  EXPECT_EQ(crash.result.exit_code, 128 + c.signal) << crash.result.Describe();
  ASSERT_EQ(crash.tombstones.size(), 1u) << "expected exactly one tombstone (no temporary files)\n"
                                          << crash.result.Describe();
  std::string original = dir.File("tombstones/" + crash.tombstones[0]);
  EXPECT_NE(crash.result.err.find("wrote tombstone " + original), std::string::npos) << crash.result.Describe();

  TempDir elsewhere;
  std::string copy = MoveToFreshDir(original, elsewhere);
  ToolResult text = Symbolize(elsewhere, copy);
  ASSERT_EQ(text.exit_code, 0) << text.Describe();
  EXPECT_NE(text.out.find(std::string("signal ") + std::to_string(c.signal) + " (SIG" + sigabbrev_np(c.signal) + ")"),
            std::string::npos)
      << text.out;
  for (const std::string& name : kLuaFunctions) EXPECT_NE(text.out.find("[jit] " + name), std::string::npos) << name << "\n" << text.out;

  ToolResult json = Symbolize(elsewhere, copy, {"--json"});
  ASSERT_EQ(json.exit_code, 0) << json.Describe();
  nlohmann::json doc = nlohmann::json::parse(json.out);
  EXPECT_EQ(doc["signal"]["number"].get<int>(), c.signal);
  // The JIT frames sit on the crashing thread, or (thread mode) on the VM
  // thread waiting for it.
  std::vector<std::string> jit_functions;
  bool crashed_seen = false;
  for (const nlohmann::json& th : doc["threads"]) {
    if (th["crashed"].get<bool>()) {
      crashed_seen = true;
      ASSERT_FALSE(th["frames"].empty());
      if (c.fault_in_jit) {
        EXPECT_TRUE(th["frames"][0]["jit"].get<bool>()) << th.dump(2);
        EXPECT_EQ(th["frames"][0]["function"].get<std::string>().rfind("crash_here@", 0), 0u) << th.dump(2);
      }
    }
    if (c.thread == th["crashed"].get<bool>()) continue;
    for (const nlohmann::json& f : th["frames"])
      if (f["jit"].get<bool>()) jit_functions.push_back(f["function"].get<std::string>());
  }
  if (!c.thread) {
    jit_functions.clear();
    for (const nlohmann::json& th : doc["threads"])
      if (th["crashed"].get<bool>())
        for (const nlohmann::json& f : th["frames"])
          if (f["jit"].get<bool>()) jit_functions.push_back(f["function"].get<std::string>());
  }
  EXPECT_TRUE(crashed_seen);
  // Innermost first, in call order.
  std::vector<std::string> prefixes;
  for (const std::string& f : jit_functions)
    for (const std::string& name : kLuaFunctions)
      if (f.rfind(name, 0) == 0) prefixes.push_back(name);
  EXPECT_EQ(prefixes, kLuaFunctions) << json.out;
}

INSTANTIATE_TEST_SUITE_P(, CrashKinds,
                         ::testing::Values(CrashKind{"segv", SIGSEGV, false, false}, CrashKind{"abort", SIGABRT, false, false},
                                           CrashKind{"ill", SIGILL, false, false}, CrashKind{"fpe", SIGFPE, false, false},
                                           CrashKind{"stack-overflow", SIGSEGV, false, false},
                                           CrashKind{"jit-segv", SIGSEGV, false, true},
                                           CrashKind{"segv", SIGSEGV, true, false}, CrashKind{"abort", SIGABRT, true, false},
                                           CrashKind{"ill", SIGILL, true, false}, CrashKind{"fpe", SIGFPE, true, false},
                                           CrashKind{"stack-overflow", SIGSEGV, true, false},
                                           CrashKind{"jit-segv", SIGSEGV, true, false}),
                         CaseName);

TEST(CrashHandler, OffWritesNothingAndDiesWithTheSameSignal) {
  TempDir dir;
  Crash crash = RunCrash(dir, "segv", false, {"--crash-handler=off"});
  EXPECT_EQ(crash.result.exit_code, 128 + SIGSEGV) << crash.result.Describe();
  EXPECT_TRUE(crash.tombstones.empty());
  EXPECT_EQ(crash.result.err.find("tombstone"), std::string::npos) << crash.result.err;
}

TEST(CrashHandler, WithoutADumperWritesAMinimalTombstoneInProcess) {
  // A fault in compiled code, and one in native code called from it (which
  // does not keep frame pointers: the fallback scans the stack for the
  // return address into JIT code).
  for (const char* kind : {"jit-segv", "segv"}) {
    SCOPED_TRACE(kind);
    TempDir dir;
    Crash crash = RunCrash(dir, kind, false, {}, {"JITSCOPE_CRASH_DUMP=" + dir.File("no-such-dumper")});
    EXPECT_EQ(crash.result.exit_code, 128 + SIGSEGV) << crash.result.Describe();
    ASSERT_EQ(crash.tombstones.size(), 1u) << crash.result.Describe();
    EXPECT_NE(crash.result.err.find("minimal tombstone"), std::string::npos) << crash.result.err;
    TempDir elsewhere;
    std::string copy = MoveToFreshDir(dir.File("tombstones/" + crash.tombstones[0]), elsewhere);
    ToolResult text = Symbolize(elsewhere, copy);
    ASSERT_EQ(text.exit_code, 0) << text.Describe();
    EXPECT_NE(text.out.find("minimal"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("signal 11 (SIGSEGV), code 1 (SEGV_MAPERR)"), std::string::npos) << text.out;
    for (const std::string& name : kLuaFunctions)
      EXPECT_NE(text.out.find("[jit] " + name), std::string::npos) << name << "\n" << text.out;
    // The maps it recorded name the native frames (the binary is still there).
    EXPECT_NE(text.out.find("jit_run"), std::string::npos) << text.out;
  }
}

TEST(CrashHandler, AFailingDumperFallsBackToTheMinimalTombstone) {
  // A "dumper" that exits at once without writing anything.
  TempDir dir;
  Crash crash = RunCrash(dir, "abort", false, {}, {"JITSCOPE_CRASH_DUMP=/bin/false"});
  EXPECT_EQ(crash.result.exit_code, 128 + SIGABRT) << crash.result.Describe();
  ASSERT_EQ(crash.tombstones.size(), 1u) << crash.result.Describe();
  TempDir elsewhere;
  std::string copy = MoveToFreshDir(dir.File("tombstones/" + crash.tombstones[0]), elsewhere);
  ToolResult text = Symbolize(elsewhere, copy);
  ASSERT_EQ(text.exit_code, 0) << text.Describe();
  EXPECT_NE(text.out.find("signal 6 (SIGABRT)"), std::string::npos) << text.out;
}

TEST(CrashHandler, AHangingDumperIsKilledAfterTheTimeoutAndTheFallbackWrites) {
  TempDir dir;
  std::string hang = dir.File("hanging-dumper");
  {
    std::ofstream script(hang);
    script << "#!/bin/sh\nexec sleep 60\n";
  }
  ASSERT_EQ(chmod(hang.c_str(), 0755), 0);
  auto start = std::chrono::steady_clock::now();
  Crash crash = RunCrash(dir, "segv", false, {}, {"JITSCOPE_CRASH_DUMP=" + hang, "JITSCOPE_CRASH_DUMP_TIMEOUT_MS=500"});
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(crash.result.exit_code, 128 + SIGSEGV) << crash.result.Describe();
  EXPECT_LT(took, 30s);
  ASSERT_EQ(crash.tombstones.size(), 1u) << crash.result.Describe();
  EXPECT_NE(crash.result.err.find("the dumper timed out"), std::string::npos) << crash.result.err;
  ToolResult text = Symbolize(dir, dir.File("tombstones/" + crash.tombstones[0]));
  ASSERT_EQ(text.exit_code, 0) << text.Describe();
  EXPECT_NE(text.out.find("[jit] level1@"), std::string::npos) << text.out;
}

TEST(CrashHandler, ASignalSentFromOutsideIsDumpedAndKeptAsTheCause) {
  // SIGBUS from kill(2) (si_code SI_USER): the handler re-queues it, so the
  // process still dies of SIGBUS and the tombstone says who sent it.
  TempDir dir;
  LaunchOptions launch;
  launch.argv = {BinPath("jitvm"), "--test-builtins", "--jit-threshold=0", "-e",
                 "local function spin() print('ready') io.stdout:flush() while true do end end spin()"};
  launch.env = {"JITSCOPE_TOMBSTONE_DIR=" + dir.File("tombstones")};
  std::string error;
  std::unique_ptr<ChildProcess> vm = ChildProcess::Start(launch, &error);
  ASSERT_NE(vm, nullptr) << error;
  ASSERT_TRUE(vm->WaitForOutput("ready", 20s)) << vm->Stderr();
  ASSERT_EQ(kill(vm->pid(), SIGBUS), 0);
  std::optional<int> status = vm->Wait(60s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 128 + SIGBUS) << vm->Stderr();
  std::vector<std::string> tombstones = ListDir(dir.File("tombstones"));
  ASSERT_EQ(tombstones.size(), 1u) << vm->Stderr();
  ToolResult text = Symbolize(dir, dir.File("tombstones/" + tombstones[0]));
  ASSERT_EQ(text.exit_code, 0) << text.Describe();
  EXPECT_NE(text.out.find("signal 7 (SIGBUS), code 0 (SI_USER), from pid " + std::to_string(getpid())),
            std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("[jit] spin@"), std::string::npos) << text.out;
}

TEST(CrashHandler, NativeFramesAreSymbolizedFromBinariesFoundByBuildId) {
  // Crash a copy of jitvm, then move the copy away: its frames are only
  // named when --symbols points at a directory holding it.
  TempDir dir;
  std::string vm_copy = dir.File("jitvm");
  std::filesystem::copy_file(BinPath("jitvm"), vm_copy);
  LaunchOptions launch;
  launch.argv = {vm_copy, "--test-builtins", "--jit-threshold=0", SourcePath("tests/tombstone/lua/crash_nested.lua"),
                 "segv"};
  launch.env = {"JITSCOPE_TOMBSTONE_DIR=" + dir.File("tombstones"), "JITSCOPE_CRASH_DUMP=" + BinPath("jitscope")};
  ToolResult crash = RunTool(launch, 60s);
  EXPECT_EQ(crash.exit_code, 128 + SIGSEGV) << crash.Describe();
  std::vector<std::string> tombstones = ListDir(dir.File("tombstones"));
  ASSERT_EQ(tombstones.size(), 1u) << crash.Describe();
  TempDir elsewhere;
  std::filesystem::create_directories(elsewhere.File("symbols/bin"));
  std::filesystem::rename(vm_copy, elsewhere.File("symbols/bin/renamed-jitvm"));
  std::string copy = MoveToFreshDir(dir.File("tombstones/" + tombstones[0]), elsewhere);

  ToolResult without = Symbolize(elsewhere, copy);
  ASSERT_EQ(without.exit_code, 0) << without.Describe();
  EXPECT_EQ(without.out.find("vmtest_crash"), std::string::npos) << without.out;
  EXPECT_NE(without.out.find("[jit] crash_here@"), std::string::npos) << without.out;

  ToolResult with = Symbolize(elsewhere, copy, {"--symbols", elsewhere.File("symbols")});
  ASSERT_EQ(with.exit_code, 0) << with.Describe();
  EXPECT_NE(with.out.find("vmtest_crash"), std::string::npos) << with.out;
  EXPECT_NE(with.out.find("[jit] crash_here@"), std::string::npos) << with.out;
  EXPECT_NE(with.out.find("[jit] level1@"), std::string::npos) << with.out;
}

}  // namespace
}  // namespace jitscope::testing
