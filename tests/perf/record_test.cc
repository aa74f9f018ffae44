// `jitscope record`: perf record plus the VM's GDB JIT descriptor read from
// outside, turned into a jitdump and `perf inject --jit`, for a VM that
// writes no jitdump and no perf map itself. Launched (`-- command`) it must
// name compiled code as well as the VM's own jitdump does (within
// kMaxPointsBelowJitdump); attached (`-p PID`) to a VM already running
// compiled code it must name it by the same rule as the jitdump tests.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "attribution.h"
#include "harness/child_process.h"
#include "harness/temp_dir.h"
#include "harness/tool_runner.h"
#include "jitdump_profile.h"
#include "perf_runner.h"

namespace jitscope::perf_test {
namespace {

constexpr double kMinAttributedPercent = 90.0;
constexpr double kMaxPointsBelowJitdump = 5.0;
constexpr int kMinSamplesInCode = 200;
// jitscope record runs perf record, then writes a jitdump and runs perf
// inject: all of a test's perf steps in one.
constexpr std::chrono::milliseconds kRecordTimeout = std::chrono::seconds(90);
constexpr std::chrono::milliseconds kFirstLoadTimeout = std::chrono::seconds(20);
constexpr std::chrono::milliseconds kPollInterval(20);
constexpr int kRecordSeconds = 2;
// perf's own start and stop, and polling for the end of the duration.
constexpr double kDurationSlackSeconds = 0.5;

struct Judgement {
  Attribution attribution;
  double sampled_seconds = 0;  // from the judged process's first sample to its last
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// What jitscope record left in `dir`, judged by `log`; `pid` nullopt: the
// process most samples belong to (the one jitscope launched).
std::optional<Judgement> JudgeRecording(const std::string& dir, const JitEventLog& log, std::optional<int> pid,
                                        std::string* error) {
  for (const char* file : {"perf.data", "perf.jit.data"}) {
    if (!std::filesystem::exists(dir + "/" + file)) {
      *error = std::string("jitscope record left no ") + file + " in " + dir;
      return std::nullopt;
    }
  }
  std::optional<std::vector<PerfSample>> samples = PerfScriptSamples(dir + "/perf.jit.data", false, error);
  if (!samples) return std::nullopt;
  Judgement judgement;
  int judged_pid = pid ? *pid : MostSampledPid(*samples);
  judgement.attribution = Attribute(*samples, log, judged_pid);
  uint64_t first = UINT64_MAX, last = 0;
  for (const PerfSample& s : *samples) {
    if (s.pid != judged_pid) continue;
    first = std::min(first, s.ns);
    last = std::max(last, s.ns);
  }
  if (last >= first) judgement.sampled_seconds = static_cast<double>(last - first) / 1e9;
  return judgement;
}

TEST(RecordLaunch, NamesCompiledCodeAsWellAsJitvmsOwnJitdump) {
  JITSCOPE_REQUIRE_PERF();
  std::string error;
  // The reference: the same script through the VM's own jitdump.
  testing::TempDir reference_dir;
  JitdumpProfileOptions options;
  options.script = "hot.lua";
  std::optional<JitdumpProfile> reference = ProfileWithJitdump(reference_dir.path(), options, &error);
  ASSERT_TRUE(reference) << error;
  Attribution expected = Attribute(reference->samples, reference->log, reference->pid);
  std::cout << "[record launch] jitdump reference: " << expected.Describe() << "\n";

  testing::TempDir dir;
  std::string out = dir.File("out");
  std::string events = dir.File("events.log");
  testing::LaunchOptions launch;
  launch.argv = {JitscopeBinary(), "record", "-o", out, "--freq", std::to_string(kSampleFrequency), "--",
                 JitvmBinary(), "--jit-event-log=" + events, PerfLuaScript("hot.lua")};
  launch.working_dir = dir.path();
  testing::ToolResult record = testing::RunTool(launch, kRecordTimeout);
  ASSERT_EQ(record.exit_code, 0) << record.Describe();
  std::optional<JitEventLog> log = JitEventLog::Read(events, &error);
  ASSERT_TRUE(log) << error;
  std::optional<Judgement> judgement = JudgeRecording(out, *log, std::nullopt, &error);
  ASSERT_TRUE(judgement) << error;
  const Attribution* result = &judgement->attribution;
  std::cout << "[record launch] jitscope record: " << result->Describe() << "\n";
  EXPECT_GE(result->in_compiled_code, kMinSamplesInCode) << result->Describe();
  EXPECT_GE(result->Percent(), expected.Percent() - kMaxPointsBelowJitdump)
      << "jitscope record: " << result->Describe() << "\njitvm --jitdump: " << expected.Describe();
}

TEST(RecordAttach, NamesTheCodeOfARunningVm) {
  JITSCOPE_REQUIRE_PERF();
  testing::TempDir dir;
  std::string events = dir.File("events.log");
  testing::LaunchOptions launch;
  launch.argv = {JitvmBinary(), "--jit-event-log=" + events, PerfLuaScript("hot_long.lua")};
  launch.working_dir = dir.path();
  std::string error;
  std::unique_ptr<testing::ChildProcess> vm = testing::ChildProcess::Start(launch, &error);
  ASSERT_NE(vm, nullptr) << error;

  // Attach once compiled code runs: the recorder must pick up code that was
  // loaded before it started.
  auto deadline = std::chrono::steady_clock::now() + kFirstLoadTimeout;
  while (ReadFile(events).find("load ") == std::string::npos) {
    ASSERT_TRUE(vm->running()) << "jitvm exited before compiling anything: " << vm->Stdout() << vm->Stderr();
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "jitvm compiled nothing in time";
    std::this_thread::sleep_for(kPollInterval);
  }

  std::string out = dir.File("out");
  auto start = std::chrono::steady_clock::now();
  testing::ToolResult record =
      testing::RunTool({JitscopeBinary(), "record", "-o", out, "--freq", std::to_string(kSampleFrequency),
                        "--duration", std::to_string(kRecordSeconds), "-p", std::to_string(vm->pid())},
                       kRecordTimeout);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(record.exit_code, 0) << record.Describe();
  std::cout << "[record attach] jitscope record -p took " << seconds << " s\n";

  // The whole event log: let the VM finish (it runs ~3 s of CPU in all).
  std::optional<int> status = vm->Wait(std::chrono::seconds(30));
  ASSERT_EQ(status, 0) << vm->Stdout() << vm->Stderr();
  std::optional<JitEventLog> log = JitEventLog::Read(events, &error);
  ASSERT_TRUE(log) << error;
  std::optional<Judgement> judgement = JudgeRecording(out, *log, vm->pid(), &error);
  ASSERT_TRUE(judgement) << error;
  const Attribution* result = &judgement->attribution;
  std::cout << "[record attach] " << result->Describe() << "\n[record attach] samples span "
            << judgement->sampled_seconds << " s\n";
  // The VM runs ~3 s of CPU after its first load, so only --duration can
  // have ended the recording this early.
  EXPECT_LE(judgement->sampled_seconds, kRecordSeconds + kDurationSlackSeconds)
      << "jitscope record -p --duration " << kRecordSeconds << " recorded longer";
  EXPECT_GE(result->in_compiled_code, kMinSamplesInCode) << result->Describe();
  EXPECT_GE(result->Percent(), kMinAttributedPercent) << result->Describe();
}

}  // namespace
}  // namespace jitscope::perf_test
