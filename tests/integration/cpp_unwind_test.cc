// In-process unwinding through compiled Lua frames: the JIT registers each
// function's .eh_frame with the C++ runtime (__register_frame), so a C++
// exception thrown below compiled frames reaches its handler above them, and
// backtrace(3) walks through them into the VM's C++ frames.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "harness/paths.h"
#include "harness/tool_runner.h"

namespace {

using jitscope::testing::BinPath;
using jitscope::testing::RunTool;
using jitscope::testing::SourcePath;

class CppUnwind : public ::testing::TestWithParam<const char*> {};

TEST_P(CppUnwind, ExceptionAndBacktracePassThroughCompiledFrames) {
  auto r = RunTool({BinPath("jitvm"), "--jit-threshold=0", std::string("--jit-frame-pointers=") + GetParam(),
                    "--test-builtins", SourcePath("tests/integration/lua/cpp_unwind.lua")});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  std::istringstream in(r.out);
  std::string first;
  std::getline(in, first);
  EXPECT_EQ(first, "false\tC++ exception caught by pcall") << r.Describe();
  std::vector<std::string> frames;
  for (std::string line; std::getline(in, line);) frames.push_back(line);
  // Innermost first: backtrace -> precall -> jit_h_call -> bt3, bt2, bt1, main chunk (compiled) -> jit_run.
  size_t first_jit = frames.size();
  for (size_t i = 0; i < frames.size(); i++)
    if (frames[i].rfind("[jit]", 0) == 0) {
      first_jit = i;
      break;
    }
  ASSERT_LT(first_jit, frames.size()) << r.Describe();
  size_t jit_frames = 0;
  size_t i = first_jit;
  while (i < frames.size() && frames[i].rfind("[jit]", 0) == 0) i++, jit_frames++;
  EXPECT_EQ(jit_frames, 4u) << r.Describe();  // bt3, bt2, bt1 and the main chunk
  ASSERT_LT(i, frames.size()) << r.Describe();
  EXPECT_NE(frames[i].find("jit_run"), std::string::npos) << "frame after the compiled ones: " << frames[i] << "\n"
                                                         << r.Describe();
}

INSTANTIATE_TEST_SUITE_P(FramePointers, CppUnwind, ::testing::Values("on", "off"));

}  // namespace
