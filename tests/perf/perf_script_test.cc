// The perf script reader on output captured from perf 6.1 on this machine:
// flat samples (dso with parentheses inside, unknown symbols) and call
// chains (tab-indented frames, blank line between samples).
#include "perf_script.h"

#include <gtest/gtest.h>

namespace jitscope::perf_test {
namespace {

TEST(PerfScriptReader, ReadsFlatSamples) {
  std::string text =
      " 5369/5371    324.300324758:      7fa12c000176 [unknown] (/memfd:jit-cache (deleted))\n"
      " 5369/5371    324.301074243:      55ca3c222873 jit_h_return (/tmp/hpx/jitvm)\n"
      " 5369/5371    324.302824121:      7fa12c0000b5 work_1@[string \"x y\"]:2 (/tmp/d/jitted-5369-3.so)\n";
  std::string error;
  std::optional<std::vector<PerfSample>> samples = ParsePerfScript(text, &error);
  ASSERT_TRUE(samples) << error;
  ASSERT_EQ(samples->size(), 3u);
  EXPECT_EQ((*samples)[0].pid, 5369);
  EXPECT_EQ((*samples)[0].tid, 5371);
  EXPECT_EQ((*samples)[0].ns, 324300324758ull);
  EXPECT_EQ((*samples)[0].leaf().ip, 0x7fa12c000176ull);
  EXPECT_EQ((*samples)[0].leaf().sym, "[unknown]");
  EXPECT_EQ((*samples)[0].leaf().dso, "/memfd:jit-cache (deleted)");
  EXPECT_EQ((*samples)[1].leaf().sym, "jit_h_return");
  EXPECT_EQ((*samples)[2].leaf().sym, "work_1@[string \"x y\"]:2");
  EXPECT_EQ((*samples)[2].leaf().dso, "/tmp/d/jitted-5369-3.so");
  EXPECT_EQ(MostSampledPid(*samples), 5369);
}

TEST(PerfScriptReader, ReadsCallChainsLeafFirst) {
  std::string text =
      " 5426/5438    325.483506278: \n"
      "\t           36885 jit_h_return (/tmp/hpx/jitvm)\n"
      "\t             2a5 caller@c.lua:9 (/tmp/d/jitted-5426-2.so)\n"
      "\n"
      " 5426/5438    325.483755943: \n"
      "\t              ce callee@c.lua:3 (/tmp/d/jitted-5426-1.so)\n"
      "\n"
      " 5426/5438    325.483755999: \n"
      "\n";
  std::string error;
  std::optional<std::vector<PerfSample>> samples = ParsePerfScript(text, &error);
  ASSERT_TRUE(samples) << error;
  ASSERT_EQ(samples->size(), 2u) << "a sample without frames is dropped";
  ASSERT_EQ((*samples)[0].frames.size(), 2u);
  EXPECT_EQ((*samples)[0].leaf().sym, "jit_h_return");
  EXPECT_TRUE((*samples)[0].CallerNamed("caller@c.lua:9"));
  EXPECT_FALSE((*samples)[0].CallerNamed("jit_h_return")) << "the leaf is not its own caller";
  EXPECT_EQ((*samples)[1].leaf().ip, 0xceu);
}

TEST(PerfScriptReader, RejectsGarbage) {
  std::string error;
  EXPECT_FALSE(ParsePerfScript("not a sample\n", &error));
  EXPECT_NE(error.find("line 1"), std::string::npos) << error;
}

}  // namespace
}  // namespace jitscope::perf_test
