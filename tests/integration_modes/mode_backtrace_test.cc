// gdb attached to a VM stopped in vmtest.stop_here() three compiled calls
// deep names them in order and unwinds to the thread's start, in every
// debug-info layout (unpacked, packed, compressed) with frame pointers on
// and off; and the layout really is the one asked for, as read from the
// target's registered symbol files.
#include <gtest/gtest.h>

#include <tuple>

#include "harness/paths.h"
#include "modes_jitvm.h"
#include "registered_symfiles.h"

namespace jitscope::integration {
namespace {

using Param = std::tuple<DebugMode, const char*>;

std::vector<std::string> NestedNames() {
  return {LuaFunctionName("nested.lua", "innermost"), LuaFunctionName("nested.lua", "middle"),
          LuaFunctionName("nested.lua", "outer")};
}

// Empty if the files have the layout of `layout`; otherwise what is wrong.
std::string LayoutMismatch(DebugLayout layout, const std::vector<RegisteredSymfile>& files) {
  size_t multi = 0;
  size_t compressed = 0;
  for (const RegisteredSymfile& file : files) {
    if (file.AllFunctions().size() > 1) multi++;
    if (file.compressed) compressed++;
  }
  const RegisteredSymfile* nested = DefiningFile(files, NestedNames()[0]);
  if (nested == nullptr) return "no registered file defines " + NestedNames()[0];
  switch (layout) {
    case DebugLayout::kUnpacked:
      if (multi != 0 || compressed != 0) return "unpacked mode registered multi-function or compressed files";
      return "";
    case DebugLayout::kPacked:
      if (compressed != 0) return "packed (uncompressed) mode registered compressed files";
      if (nested->compressed || nested->parsed.functions.size() < 2) {
        return "the nested functions were not packed with others";
      }
      return "";
    case DebugLayout::kCompressed:
      for (const RegisteredSymfile& file : files) {
        if (file.AllFunctions().size() > 1 && !file.compressed) return "a packed group was left uncompressed";
      }
      if (!nested->compressed || nested->inner.functions.size() < 2) {
        return "the nested functions are not in a compressed group";
      }
      if (!nested->parsed.functions.empty()) return "a compressed file has symbols outside .gnu_debugdata";
      return "";
  }
  return "unknown layout";
}

class ModeBacktrace : public ::testing::TestWithParam<Param> {
 protected:
  const DebugMode& mode() const { return std::get<0>(GetParam()); }
  std::vector<std::string> Flags() const {
    std::vector<std::string> flags = {"--jit-threshold=0", "--test-builtins",
                                      std::string("--jit-frame-pointers=") + std::get<1>(GetParam())};
    flags.insert(flags.end(), mode().flags.begin(), mode().flags.end());
    return flags;
  }
};

TEST_P(ModeBacktrace, AttachedGdbNamesTheNestedFunctionsAndUnwindsToThreadStart) {
  JITSCOPE_REQUIRE_TOOL(gdb, "gdb");
  std::string error;
  std::unique_ptr<StoppingJitvm> vm = StoppingJitvm::Start(Flags(), "nested.lua", &error);
  ASSERT_NE(vm, nullptr) << error;
  std::vector<std::string> compiled = CompiledFrameNames(vm->ground_truth());
  ASSERT_EQ(MissingInOrder(compiled, NestedNames()), "") << "the VM's own stack is not what nested.lua says\n"
                                                         << vm->Describe();

  // The layout first: a backtrace proves little if the mode did not apply.
  std::vector<RegisteredSymfile> files;
  ASSERT_TRUE(ReadRegisteredSymfiles(vm->pid(), &files, &error)) << error;
  EXPECT_EQ(LayoutMismatch(mode().layout, files), "") << DescribeSymfiles(files);

  testing::ToolResult result = AttachGdb(gdb, vm->pid(), {"thread apply all bt"});
  if (PtraceDenied(result)) GTEST_SKIP() << "this machine does not permit ptrace";
  ASSERT_FALSE(result.timed_out) << result.Describe();
  std::vector<DebuggerFrame> frames = ThreadWithFrame(result.out, "vmtest_stop_here");
  ASSERT_FALSE(frames.empty()) << "no thread is in vmtest_stop_here\n" << result.Describe();
  EXPECT_EQ(MissingInOrder(JitFrameNames(frames), NestedNames()), "") << FormatFrames(frames);
  EXPECT_EQ(JitFrameNames(frames), compiled) << FormatFrames(frames);
  EXPECT_EQ(IncompleteUnwindReason(frames), "") << FormatFrames(frames);
}

INSTANTIATE_TEST_SUITE_P(Modes, ModeBacktrace,
                         ::testing::Combine(::testing::ValuesIn(AllDebugModes()), ::testing::Values("on", "off")),
                         [](const ::testing::TestParamInfo<Param>& info) {
                           return std::string(std::get<0>(info.param).name) + "_fp_" + std::get<1>(info.param);
                         });

}  // namespace
}  // namespace jitscope::integration
