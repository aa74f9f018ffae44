// lldb reads the same GDB JIT interface (once its JIT loader is enabled,
// which Linux builds leave off) and names the compiled Lua frames.
// lldb can unwind without CFI by analysing code, so only the gdb tests prove
// the CFI; this proves lldb accepts the symbol files. Debian's lldb 14 has
// no LZMA: compressed (.gnu_debugdata) entries need an LZMA-enabled lldb.
#include <gtest/gtest.h>

#include "backtrace_parser.h"
#include "debugger_session.h"
#include "harness/paths.h"
#include "jitvm_under_test.h"

namespace jitscope::integration {
namespace {

class LldbBacktrace : public ::testing::TestWithParam<const char*> {};

TEST_P(LldbBacktrace, CompiledFramesMatchGroundTruth) {
  JITSCOPE_REQUIRE_TOOL(lldb, "lldb");
  // lldb stops on SIGSTOP by default; kill the VM explicitly rather than
  // rely on lldb's behaviour at exit in batch mode.
  DebuggerRun run = RunLldb({"run", "bt", "process kill"},
                            {"--jit-threshold=0", std::string("--jit-frame-pointers=") + GetParam(),
                             "--test-builtins", "fib.lua"});
  if (run.PtraceDenied()) GTEST_SKIP() << "this machine does not permit ptrace";
  ASSERT_FALSE(run.result.timed_out) << run.Describe();
  ASSERT_EQ(run.ground_truth.size(), 6u) << run.Describe();

  std::vector<DebuggerFrame> frames = ParseLldbBacktrace(run.result.out);
  EXPECT_EQ(JitFrameNames(frames), CompiledFrameNames(run.ground_truth)) << FormatFrames(frames) << run.Describe();
  EXPECT_EQ(IncompleteUnwindReason(frames), "") << FormatFrames(frames);
}

INSTANTIATE_TEST_SUITE_P(FramePointers, LldbBacktrace, ::testing::Values("on", "off"),
                         [](const ::testing::TestParamInfo<const char*>& info) { return std::string(info.param); });

}  // namespace
}  // namespace jitscope::integration
