// `jitscope stack PID --json` on a jitvm stopped in vmtest.stop_here(): the
// JIT frames of the stopped thread name exactly the VM's own compiled Lua
// frames (its ground truth, innermost first), every run of JIT frames is
// entered from jit_run, and the unwind reaches the thread's outermost frame.
// Recursion 1, 10 and 1000 deep, frame pointers on and off, everything
// compiled (--jit-threshold=0) or compiled and interpreted frames mixed.
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>
#include <tuple>

#include "jitvm_under_test.h"

namespace jitscope::integration {
namespace {

// 1000 Lua levels are 1000-3000 native frames (interpreted levels take
// several); the default limit of 256 is for people reading a terminal.
constexpr int kMaxFrames = 20000;

std::string ScriptPath(const std::string& name) { return std::string(UNWINDER_LUA_DIR) + "/" + name; }

struct StackFrame {
  std::string function;
  bool jit = false;
};

std::string Format(const std::vector<StackFrame>& frames) {
  std::string out;
  for (size_t i = 0; i < frames.size(); i++)
    out += "#" + std::to_string(i) + " " + (frames[i].jit ? "[jit] " : "") + frames[i].function + "\n";
  return out;
}

// Why the stack is not a complete unwind of a VM thread ("" if it is).
std::string IncompleteReason(const std::vector<StackFrame>& frames, bool complete, const std::string& stop_reason) {
  if (!complete) return "the unwind stopped early: " + stop_reason;
  size_t last_jit = frames.size();
  for (size_t i = 0; i < frames.size(); i++) {
    if (!frames[i].jit) continue;
    last_jit = i;
    if (i + 1 == frames.size()) return "the stack ends in JIT frame #" + std::to_string(i);
    if (!frames[i + 1].jit && frames[i + 1].function.find("jit_run") == std::string::npos)
      return "JIT frame #" + std::to_string(i) + " is called from '" + frames[i + 1].function + "', not jit_run";
  }
  if (last_jit == frames.size()) return "no JIT frame";
  bool vm_main = false;
  for (size_t i = last_jit + 1; i < frames.size(); i++)
    vm_main = vm_main || frames[i].function.find("real_main") != std::string::npos || frames[i].function == "main" ||
              frames[i].function == "__libc_start_main";
  return vm_main ? "" : "no VM main frame below the JIT frames";
}

using Param = std::tuple<int, bool, bool>;  // depth, frame pointers, mixed tiers

class StackCommand : public ::testing::TestWithParam<Param> {};

TEST_P(StackCommand, JitFramesMatchTheVmsGroundTruth) {
  auto [depth, frame_pointers, mixed] = GetParam();
  std::vector<std::string> flags = {"--test-builtins", std::string("--jit-frame-pointers=") + (frame_pointers ? "on" : "off"),
                                    "-e", "DEPTH=" + std::to_string(depth)};
  if (!mixed) flags.push_back("--jit-threshold=0");
  std::string error;
  std::unique_ptr<StoppedJitvm> vm =
      StoppedJitvm::Start(flags, ScriptPath(mixed ? "mixed_recurse.lua" : "recurse.lua"), &error);
  ASSERT_NE(vm, nullptr) << error;
  std::vector<std::string> expected = CompiledFrameNames(vm->ground_truth());
  ASSERT_FALSE(expected.empty()) << vm->Describe();

  testing::ToolResult result = testing::RunTool(
      {JitscopePath(), "stack", std::to_string(vm->pid()), "--json", "--max-frames", std::to_string(kMaxFrames)},
      kToolTimeout);
  if (result.exit_code != 0 && result.err.find("permission denied") != std::string::npos)
    GTEST_SKIP() << "this machine does not permit ptrace: " << result.err;
  ASSERT_EQ(result.exit_code, 0) << result.Describe();
  nlohmann::json out = nlohmann::json::parse(result.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(out.is_discarded()) << result.out.substr(0, 2000);
  const nlohmann::json* stopped = nullptr;
  for (const nlohmann::json& t : out["threads"])
    for (const nlohmann::json& f : t["frames"])
      if (f.value("function", "").find("vmtest_stop_here") != std::string::npos) stopped = &t;
  ASSERT_NE(stopped, nullptr) << "no thread is in vmtest_stop_here\n" << result.out.substr(0, 4000);

  std::vector<StackFrame> frames;
  std::vector<std::string> jit_names;
  for (const nlohmann::json& f : (*stopped)["frames"]) {
    frames.push_back({f.value("function", "??"), f.value("jit", false)});
    if (frames.back().jit) jit_names.push_back(frames.back().function);
  }
  EXPECT_EQ(jit_names, expected) << Format(frames);
  EXPECT_EQ(IncompleteReason(frames, (*stopped).value("complete", false), (*stopped).value("stop_reason", "")), "")
      << Format(frames);
  // The VM is still stopped where it was: jitscope detached and left it so.
  std::string stat = ReadWholeFile("/proc/" + std::to_string(vm->pid()) + "/stat");
  EXPECT_NE(stat.find(") T "), std::string::npos) << stat;
}

INSTANTIATE_TEST_SUITE_P(Stacks, StackCommand,
                         ::testing::Combine(::testing::Values(1, 10, 1000), ::testing::Bool(), ::testing::Bool()),
                         [](const ::testing::TestParamInfo<Param>& info) {
                           return "depth" + std::to_string(std::get<0>(info.param)) +
                                  (std::get<1>(info.param) ? "_fp_on" : "_fp_off") +
                                  (std::get<2>(info.param) ? "_mixed" : "_compiled");
                         });

TEST(StackCommandErrors, MissingProcessIsOneLineAndExitOne) {
  // Above the kernel's pid_max limit (2^22), so never a live process.
  testing::ToolResult result = testing::RunTool({JitscopePath(), "stack", "4194305"}, kToolTimeout);
  EXPECT_EQ(result.exit_code, 1) << result.Describe();
  EXPECT_EQ(result.out, "");
  EXPECT_NE(result.err.find("4194305 does not exist"), std::string::npos) << result.err;
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
}

TEST(StackCommandErrors, ThreadOfAnotherProcessIsRefused) {
  std::string error;
  std::unique_ptr<StoppedJitvm> vm = StoppedJitvm::Start({"--test-builtins"}, ScriptPath("recurse.lua"), &error);
  ASSERT_NE(vm, nullptr) << error;
  testing::ToolResult result =
      testing::RunTool({JitscopePath(), "stack", std::to_string(vm->pid()), "--tid", "4194305"}, kToolTimeout);
  EXPECT_EQ(result.exit_code, 1) << result.Describe();
  EXPECT_NE(result.err.find("not a thread of process"), std::string::npos) << result.err;
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
}

TEST(StackCommandErrors, OneThreadWithTid) {
  std::string error;
  std::unique_ptr<StoppedJitvm> vm = StoppedJitvm::Start({"--test-builtins"}, ScriptPath("recurse.lua"), &error);
  ASSERT_NE(vm, nullptr) << error;
  testing::ToolResult result = testing::RunTool(
      {JitscopePath(), "stack", std::to_string(vm->pid()), "--tid", std::to_string(vm->pid())}, kToolTimeout);
  if (result.exit_code != 0 && result.err.find("permission denied") != std::string::npos)
    GTEST_SKIP() << "this machine does not permit ptrace: " << result.err;
  ASSERT_EQ(result.exit_code, 0) << result.Describe();
  EXPECT_EQ(result.out.rfind("tid " + std::to_string(vm->pid()) + " (", 0), 0u) << result.out;
  EXPECT_EQ(result.out.find("\ntid "), std::string::npos) << result.out;
}

}  // namespace
}  // namespace jitscope::integration
