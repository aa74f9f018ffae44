// gdb unwinds through JIT-compiled Lua frames using only what jitvm
// registered through the GDB JIT interface (mini debug info: symbols and
// CFI): its backtrace names the compiled frames the VM reports, in order,
// and continues into jitvm's own C++ frames, with frame pointers on and off.
#include <gtest/gtest.h>

#include "backtrace_parser.h"
#include "debugger_session.h"
#include "harness/paths.h"
#include "jitvm_under_test.h"

namespace jitscope::integration {
namespace {

// fib.lua stops five fib calls deep (fib(5) down to fib(1)) above the main chunk.
constexpr size_t kFibFrames = 6;

class GdbBacktrace : public ::testing::TestWithParam<const char*> {
 protected:
  std::string FramePointerFlag() const { return std::string("--jit-frame-pointers=") + GetParam(); }
};

TEST_P(GdbBacktrace, CompiledFramesMatchGroundTruthAndUnwindToMain) {
  JITSCOPE_REQUIRE_TOOL(gdb, "gdb");
  DebuggerRun run = RunGdb({"run", "bt"}, {"--jit-threshold=0", FramePointerFlag(), "--test-builtins", "fib.lua"});
  if (run.PtraceDenied()) GTEST_SKIP() << "this machine does not permit ptrace";
  ASSERT_FALSE(run.result.timed_out) << run.Describe();
  ASSERT_EQ(run.ground_truth.size(), kFibFrames) << "jitvm did not stop where fib.lua says\n" << run.Describe();
  for (const GroundTruthFrame& frame : run.ground_truth) {
    ASSERT_EQ(frame.tier, "baseline") << "--jit-threshold=0 must compile every frame\n" << run.Describe();
  }

  std::vector<DebuggerFrame> frames = ParseGdbBacktrace(run.result.out);
  EXPECT_EQ(JitFrameNames(frames), CompiledFrameNames(run.ground_truth)) << FormatFrames(frames) << run.Describe();
  EXPECT_EQ(IncompleteUnwindReason(frames), "") << FormatFrames(frames);
  EXPECT_EQ(run.result.out.find("Backtrace stopped"), std::string::npos) << run.result.out;
}

TEST_P(GdbBacktrace, MixedTiersNameCompiledFramesAndStillReachMain) {
  JITSCOPE_REQUIRE_TOOL(gdb, "gdb");
  // Default threshold: only `hot` gets compiled (mixed.lua waits for it).
  DebuggerRun run = RunGdb({"run", "bt"}, {FramePointerFlag(), "--test-builtins", "mixed.lua"});
  if (run.PtraceDenied()) GTEST_SKIP() << "this machine does not permit ptrace";
  ASSERT_FALSE(run.result.timed_out) << run.Describe();
  std::vector<std::string> compiled = CompiledFrameNames(run.ground_truth);
  ASSERT_FALSE(compiled.empty()) << "mixed.lua needs a compiled frame on the stack\n" << run.Describe();
  ASSERT_LT(compiled.size(), run.ground_truth.size()) << "mixed.lua needs interpreted frames too\n"
                                                      << run.Describe();

  std::vector<DebuggerFrame> frames = ParseGdbBacktrace(run.result.out);
  EXPECT_EQ(JitFrameNames(frames), compiled) << FormatFrames(frames) << run.Describe();
  EXPECT_EQ(IncompleteUnwindReason(frames), "") << FormatFrames(frames);
  EXPECT_EQ(run.result.out.find("Backtrace stopped"), std::string::npos) << run.result.out;
}

// The acceptance as a user does it: attach to a VM already stopped
// in vmtest.stop_here(); the VM runs Lua on its own thread, so look at all.
TEST_P(GdbBacktrace, AttachedGdbFindsTheCompiledFramesOnTheVmThread) {
  JITSCOPE_REQUIRE_TOOL(gdb, "gdb");
  std::string error;
  std::unique_ptr<StoppedJitvm> vm =
      StoppedJitvm::Start({"--jit-threshold=0", FramePointerFlag(), "--test-builtins"}, "fib.lua", &error);
  ASSERT_NE(vm, nullptr) << error;
  // gdb -batch detaches from an attached process; `vm` kills it afterwards.
  testing::ToolResult result = RunInLuaDir(
      {gdb, "-batch", "-nx", "-p", std::to_string(vm->pid()), "-ex", "set width 0", "-ex", "thread apply all bt"},
      {});
  DebuggerRun run{result, vm->ground_truth()};
  if (run.PtraceDenied()) GTEST_SKIP() << "this machine does not permit ptrace";
  ASSERT_FALSE(result.timed_out) << run.Describe();

  std::vector<std::vector<DebuggerFrame>> threads = ParseGdbThreadBacktraces(result.out);
  const std::vector<DebuggerFrame>* vm_thread = nullptr;
  for (const std::vector<DebuggerFrame>& frames : threads) {
    for (const DebuggerFrame& frame : frames) {
      if (frame.function.find("vmtest_stop_here") != std::string::npos) vm_thread = &frames;
    }
  }
  ASSERT_NE(vm_thread, nullptr) << "no thread is in vmtest_stop_here\n" << run.Describe();
  EXPECT_EQ(JitFrameNames(*vm_thread), CompiledFrameNames(vm->ground_truth()))
      << FormatFrames(*vm_thread) << run.Describe();
  EXPECT_EQ(IncompleteUnwindReason(*vm_thread), "") << FormatFrames(*vm_thread);
}

INSTANTIATE_TEST_SUITE_P(FramePointers, GdbBacktrace, ::testing::Values("on", "off"),
                         [](const ::testing::TestParamInfo<const char*>& info) { return std::string(info.param); });

}  // namespace
}  // namespace jitscope::integration
