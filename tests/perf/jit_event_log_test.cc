// The event log reader: lifetimes from load/free pairs, lookup by address
// and time, address reuse, and refusal of inconsistent logs.
#include "jit_event_log.h"

#include <gtest/gtest.h>

namespace jitscope::perf_test {
namespace {

TEST(JitEventLogReader, PairsLoadsWithFreesAndFindsByTime) {
  std::string text =
      "load 100 0x1000 64 a@x.lua:1\n"
      "free 200 0x1000 64 a@x.lua:1\n"
      "load 300 0x1000 32 b@x.lua:5\n"
      "load 310 0x2000 16 main@x.lua:0\n"
      "free 400 0x2000 16 main@x.lua:0\n"
      "load 500 0x3000 8 par";  // being written
  std::string error;
  std::optional<JitEventLog> log = JitEventLog::Parse(text, &error);
  ASSERT_TRUE(log) << error;
  ASSERT_EQ(log->lifetimes().size(), 3u);
  EXPECT_EQ(log->Find(0x1010, 150)->name, "a@x.lua:1");
  EXPECT_EQ(log->Find(0x1010, 200), nullptr) << "freed at 200";
  EXPECT_EQ(log->Find(0x1010, 350)->name, "b@x.lua:5");
  EXPECT_EQ(log->Find(0x1020, 350), nullptr) << "b is 32 bytes";
  EXPECT_EQ(log->lifetimes()[1].free_ns, CodeLifetime::kNeverFreed);
  EXPECT_EQ(log->NameOf("b"), "b@x.lua:5");
  EXPECT_EQ(log->NameOf("x"), "");
  std::string example;
  EXPECT_TRUE(log->HasAddressReuse(&example));
  EXPECT_NE(example.find("a@x.lua:1 then b@x.lua:5"), std::string::npos) << example;
}

TEST(JitEventLogReader, RejectsFreesOfCodeThatIsNotLiveAndBadLines) {
  std::string error;
  EXPECT_FALSE(JitEventLog::Parse("free 1 0x10 4 a@x.lua:1\n", &error));
  EXPECT_FALSE(JitEventLog::Parse("load 1 0x10 4 a@x.lua:1\nload 2 0x10 4 b@x.lua:1\n", &error));
  EXPECT_FALSE(JitEventLog::Parse("load x 0x10 4 a@x.lua:1\n", &error));
  EXPECT_FALSE(JitEventLog::Parse("load 1 10 4 a@x.lua:1\n", &error));
}

}  // namespace
}  // namespace jitscope::perf_test
