// lldb (its GDB JIT loader enabled before attaching) names the three nested
// compiled functions like the VM's own view of its stack, in the
// uncompressed layouts, frame pointers on and off.
//
// Compressed layout: not tested here. Compressed groups keep their symbols
// and CFI in .gnu_debugdata (xz), which lldb reads only when built with
// LZMA; Debian's lldb 14 is not, so it sees no symbols for them. With an
// LZMA-enabled lldb, add DebugLayout::kCompressed to LldbModes below.
// (lldb also unwinds by analysing code, so only gdb proves the CFI.)
#include <gtest/gtest.h>

#include <tuple>

#include "harness/paths.h"
#include "modes_jitvm.h"

namespace jitscope::integration {
namespace {

using Param = std::tuple<DebugMode, const char*>;

std::vector<DebugMode> LldbModes() {
  return {ModeFor(DebugLayout::kUnpacked), ModeFor(DebugLayout::kPacked)};
}

// `thread backtrace all`: the last listed backtrace of the thread that has
// a frame in `marker` (lldb lists the threads once when it attaches).
std::vector<DebuggerFrame> LldbThreadWithFrame(const std::string& output, const std::string& marker) {
  std::vector<DebuggerFrame> found;
  size_t start = output.find("thread #");
  while (start != std::string::npos) {
    size_t next = output.find("thread #", start + 1);
    std::vector<DebuggerFrame> frames = ParseLldbBacktrace(output.substr(start, next - start));
    for (const DebuggerFrame& frame : frames) {
      if (frame.function.find(marker) != std::string::npos) found = frames;
    }
    start = next;
  }
  return found;
}

class LldbModeBacktrace : public ::testing::TestWithParam<Param> {};

TEST_P(LldbModeBacktrace, AttachedLldbNamesTheNestedFunctionsInOrder) {
  JITSCOPE_REQUIRE_TOOL(lldb, "lldb");
  const DebugMode& mode = std::get<0>(GetParam());
  std::vector<std::string> flags = {"--jit-threshold=0", "--test-builtins",
                                    std::string("--jit-frame-pointers=") + std::get<1>(GetParam())};
  flags.insert(flags.end(), mode.flags.begin(), mode.flags.end());
  std::string error;
  std::unique_ptr<StoppingJitvm> vm = StoppingJitvm::Start(flags, "nested.lua", &error);
  ASSERT_NE(vm, nullptr) << error;

  testing::ToolResult result = AttachLldb(lldb, vm->pid(), {"thread backtrace all"});
  if (PtraceDenied(result)) GTEST_SKIP() << "this machine does not permit ptrace";
  ASSERT_FALSE(result.timed_out) << result.Describe();
  std::vector<DebuggerFrame> frames = LldbThreadWithFrame(result.out, "vmtest_stop_here");
  ASSERT_FALSE(frames.empty()) << "no thread is in vmtest_stop_here\n" << result.Describe();

  std::vector<std::string> nested = {LuaFunctionName("nested.lua", "innermost"),
                                     LuaFunctionName("nested.lua", "middle"), LuaFunctionName("nested.lua", "outer")};
  EXPECT_EQ(MissingInOrder(JitFrameNames(frames), nested), "") << FormatFrames(frames);
  EXPECT_EQ(JitFrameNames(frames), CompiledFrameNames(vm->ground_truth())) << FormatFrames(frames);
  EXPECT_EQ(IncompleteUnwindReason(frames), "") << FormatFrames(frames);
}

INSTANTIATE_TEST_SUITE_P(Modes, LldbModeBacktrace,
                         ::testing::Combine(::testing::ValuesIn(LldbModes()), ::testing::Values("on", "off")),
                         [](const ::testing::TestParamInfo<Param>& info) {
                           return std::string(std::get<0>(info.param).name) + "_fp_" + std::get<1>(info.param);
                         });

}  // namespace
}  // namespace jitscope::integration
