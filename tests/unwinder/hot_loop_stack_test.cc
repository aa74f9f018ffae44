// `jitscope stack` at random moments on a VM spinning in a compiled loop
// with frame pointers off: wherever in the loop the thread is stopped, the
// JIT frames (spin, middle, outer, the main chunk) unwind by their CFI into
// the VM's native frames (jit_run, then main). Twenty stacks of one VM at
// random 10-150 ms intervals, in each debug-info layout (default packing,
// no packing, every group compressed, full DWARF).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "harness/child_process.h"
#include "harness/paths.h"
#include "jitvm_under_test.h"

namespace jitscope::integration {
namespace {

constexpr int kStacks = 20;

std::string HotLoopPath() { return testing::SourcePath("tests/integration_modes/lua/hot_loop.lua"); }

std::string FunctionName(const std::string& fname) {
  std::ifstream file(HotLoopPath());
  int number = 0;
  for (std::string line; std::getline(file, line);) {
    number++;
    if (line.find("local function " + fname + "(") != std::string::npos)
      return fname + "@hot_loop.lua:" + std::to_string(number);
  }
  return "";
}

struct Layout {
  const char* name;
  const char* flag;
};

void PrintTo(const Layout& layout, std::ostream* os) { *os << layout.name; }

class HotLoopStack : public ::testing::TestWithParam<Layout> {};

TEST_P(HotLoopStack, RandomMomentsUnwindThroughJitFramesToTheVm) {
  testing::LaunchOptions options;
  options.argv = {JitvmPath(), "--jit-threshold=0", "--jit-frame-pointers=off", GetParam().flag, HotLoopPath()};
  std::string error;
  std::unique_ptr<testing::ChildProcess> vm = testing::ChildProcess::Start(options, &error);
  ASSERT_NE(vm, nullptr) << error;
  ASSERT_TRUE(vm->WaitForOutput("spinning", kToolTimeout)) << vm->Stdout() << vm->Stderr();
  std::vector<std::string> expected = {FunctionName("spin"), FunctionName("middle"), FunctionName("outer"),
                                       "main@hot_loop.lua:0"};
  std::random_device seed;
  std::mt19937 random(seed());
  for (int round = 0; round < kStacks; round++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(10, 150)(random)));
    testing::ToolResult result =
        testing::RunTool({JitscopePath(), "stack", std::to_string(vm->pid()), "--json"}, kToolTimeout);
    if (result.exit_code != 0 && result.err.find("permission denied") != std::string::npos)
      GTEST_SKIP() << "this machine does not permit ptrace: " << result.err;
    ASSERT_EQ(result.exit_code, 0) << result.Describe();
    nlohmann::json out = nlohmann::json::parse(result.out, nullptr, /*allow_exceptions=*/false);
    ASSERT_FALSE(out.is_discarded());
    bool found = false;
    for (const nlohmann::json& t : out["threads"]) {
      std::vector<std::string> jit, native_after;
      std::string text;
      for (const nlohmann::json& f : t["frames"]) {
        std::string name = f.value("function", "??");
        text += name + (f.value("jit", false) ? " [jit]" : "") + " {" + f.value("method", "") + "}\n";
        if (f.value("jit", false))
          jit.push_back(name);
        else if (!jit.empty())
          native_after.push_back(name);
      }
      if (jit.empty()) continue;
      found = true;
      EXPECT_EQ(jit, expected) << "round " << round << "\n" << text;
      ASSERT_FALSE(native_after.empty()) << "round " << round << "\n" << text;
      EXPECT_NE(native_after.front().find("jit_run"), std::string::npos) << "round " << round << "\n" << text;
      EXPECT_TRUE(t.value("complete", false)) << t.value("stop_reason", "") << "\n" << text;
      EXPECT_NE(std::find_if(native_after.begin(), native_after.end(),
                             [](const std::string& n) { return n.find("real_main") != std::string::npos; }),
                native_after.end())
          << text;
    }
    EXPECT_TRUE(found) << "no thread runs JIT code in round " << round << "\n" << result.out.substr(0, 3000);
  }
  EXPECT_TRUE(vm->running());
}

INSTANTIATE_TEST_SUITE_P(Layouts, HotLoopStack,
                         ::testing::Values(Layout{"packed", "--jit-debug-pack=on"}, Layout{"unpacked", "--jit-debug-pack=off"},
                                           Layout{"compressed", "--jit-debug-compress=always"},
                                           Layout{"full", "--jit-debug=full"}),
                         [](const ::testing::TestParamInfo<Layout>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace jitscope::integration
