// `jitscope stack` on a third-party JIT: LLVM's lli (MCJIT) registers
// relocatable objects whose .eh_frame has pc-relative pointers, relocated
// only in the loaded copy. The IR stops itself with raise(SIGSTOP) three
// JIT functions deep; the stack must name them in order and continue into
// LLVM's native frames to the process's outermost frame.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "harness/child_process.h"
#include "harness/paths.h"
#include "harness/temp_dir.h"
#include "jitvm_under_test.h"

namespace jitscope::integration {
namespace {

constexpr std::chrono::milliseconds kPoll(10);

// SIGSTOP is 19 on x86-64 Linux; `middle` has a frame of its own (an
// alloca) so that its CFI, not a frame pointer, must be right.
constexpr const char* kProgram = R"(declare i32 @raise(i32)
define i32 @inner(i32 %x) {
  %r = call i32 @raise(i32 19)
  %s = add i32 %r, %x
  ret i32 %s
}
define i32 @middle(i32 %x) {
  %a = alloca [64 x i8]
  %r = call i32 @inner(i32 %x)
  %s = add i32 %r, 1
  ret i32 %s
}
define i32 @main() {
  %r = call i32 @middle(i32 3)
  ret i32 %r
}
)";

char State(pid_t pid) {
  std::string stat = ReadWholeFile("/proc/" + std::to_string(pid) + "/stat");
  size_t paren = stat.rfind(')');
  return paren == std::string::npos || paren + 2 >= stat.size() ? '?' : stat[paren + 2];
}

TEST(LliStack, McjitFramesUnwindByTheirRelocatedEhFrame) {
  JITSCOPE_REQUIRE_TOOL(lli, "lli");
  testing::TempDir dir;
  std::string ir = dir.File("stop.ll");
  std::ofstream(ir) << kProgram;
  testing::LaunchOptions options;
  options.argv = {lli, "--jit-kind=mcjit", ir};
  std::string error;
  std::unique_ptr<testing::ChildProcess> child = testing::ChildProcess::Start(options, &error);
  ASSERT_NE(child, nullptr) << error;
  auto deadline = std::chrono::steady_clock::now() + kToolTimeout;
  while (State(child->pid()) != 'T') {
    ASSERT_TRUE(child->running()) << child->Stderr();
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "lli did not stop";
    std::this_thread::sleep_for(kPoll);
  }
  testing::ToolResult result =
      testing::RunTool({JitscopePath(), "stack", std::to_string(child->pid()), "--json"}, kToolTimeout);
  if (result.exit_code != 0 && result.err.find("permission denied") != std::string::npos)
    GTEST_SKIP() << "this machine does not permit ptrace: " << result.err;
  ASSERT_EQ(result.exit_code, 0) << result.Describe();
  nlohmann::json out = nlohmann::json::parse(result.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(out.is_discarded());
  ASSERT_EQ(out["threads"].size(), 1u) << result.out;
  const nlohmann::json& thread = out["threads"][0];
  std::vector<std::string> jit, methods;
  std::string after, text;
  for (const nlohmann::json& f : thread["frames"]) {
    std::string name = f.value("function", "??");
    text += name + " {" + f.value("method", "") + "}\n";
    if (f.value("jit", false)) {
      jit.push_back(name);
      methods.push_back(f.value("method", ""));
    } else if (!jit.empty() && after.empty())
      after = name;
  }
  EXPECT_EQ(jit, (std::vector<std::string>{"inner", "middle", "main"})) << text;
  // inner is found by libc's CFI, the callers of JIT code by the JIT's CFI.
  EXPECT_EQ(methods, (std::vector<std::string>{"native-cfi", "jit-cfi", "jit-cfi"})) << text;
  EXPECT_NE(after.find("llvm::"), std::string::npos) << text;
  EXPECT_TRUE(thread.value("complete", false)) << thread.value("stop_reason", "") << "\n" << text;
}

}  // namespace
}  // namespace jitscope::integration
