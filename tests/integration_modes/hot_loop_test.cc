// gdb attached at a random moment to a VM spinning in a compiled loop,
// frame pointers off, in every debug-info layout: the thread is stopped at
// whatever instruction of the loop it was running, and the backtrace must
// still name spin, middle, outer and the main chunk in order and unwind to
// the thread's start. That needs CFI exact at each instruction of the loop
// body, not only at call sites. Five attaches per layout, each on a fresh
// VM after a random 100-500 ms, as separate tests to keep each one short.
#include <gtest/gtest.h>

#include <random>
#include <thread>
#include <tuple>

#include "harness/paths.h"
#include "modes_jitvm.h"

namespace jitscope::integration {
namespace {

constexpr int kAttaches = 5;

using Param = std::tuple<DebugMode, int>;

class HotLoop : public ::testing::TestWithParam<Param> {};

TEST_P(HotLoop, GdbAttachedAtARandomInstructionUnwindsTheCompiledLoop) {
  JITSCOPE_REQUIRE_TOOL(gdb, "gdb");
  const DebugMode& mode = std::get<0>(GetParam());
  testing::LaunchOptions options;
  options.argv = {JitvmPath(), "--jit-threshold=0", "--jit-frame-pointers=off"};
  options.argv.insert(options.argv.end(), mode.flags.begin(), mode.flags.end());
  options.argv.push_back(ModesScriptPath("hot_loop.lua"));
  std::string error;
  std::unique_ptr<testing::ChildProcess> vm = testing::ChildProcess::Start(options, &error);
  ASSERT_NE(vm, nullptr) << error;
  ASSERT_TRUE(vm->WaitForOutput("spinning", kToolTimeout)) << vm->Stdout() << vm->Stderr();

  std::random_device seed;
  std::mt19937 random(seed());
  std::chrono::milliseconds delay(std::uniform_int_distribution<int>(100, 500)(random));
  std::this_thread::sleep_for(delay);
  // gdb detaches at exit and the VM spins on until `vm` kills it.
  testing::ToolResult result = AttachGdb(gdb, vm->pid(), {"thread apply all bt"});
  if (PtraceDenied(result)) GTEST_SKIP() << "this machine does not permit ptrace";
  ASSERT_FALSE(result.timed_out) << result.Describe();

  std::vector<std::string> expected = {LuaFunctionName("hot_loop.lua", "spin"),
                                       LuaFunctionName("hot_loop.lua", "middle"),
                                       LuaFunctionName("hot_loop.lua", "outer"), "main@hot_loop.lua:0"};
  std::vector<DebuggerFrame> frames = ThreadWithFrame(result.out, expected.back());
  ASSERT_FALSE(frames.empty()) << "no thread runs compiled code after " << delay.count() << " ms\n"
                               << result.Describe();
  EXPECT_EQ(JitFrameNames(frames), expected) << "attached after " << delay.count() << " ms\n"
                                             << FormatFrames(frames);
  EXPECT_EQ(IncompleteUnwindReason(frames), "") << "attached after " << delay.count() << " ms\n"
                                                << FormatFrames(frames);
  EXPECT_EQ(result.out.find("Backtrace stopped"), std::string::npos) << result.out;
}

INSTANTIATE_TEST_SUITE_P(Modes, HotLoop,
                         ::testing::Combine(::testing::ValuesIn(AllDebugModes()), ::testing::Range(0, kAttaches)),
                         [](const ::testing::TestParamInfo<Param>& info) {
                           return std::string(std::get<0>(info.param).name) + "_attach" +
                                  std::to_string(std::get<1>(info.param));
                         });

}  // namespace
}  // namespace jitscope::integration
