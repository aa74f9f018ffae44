#include "perf_integration/perf_map_writer.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "harness/temp_dir.h"

namespace jitscope::perf {
namespace {

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

TEST(PerfMapWriter, WritesPerfsFormat) {
  testing::TempDir dir;
  std::string path = dir.path() + "/perf-1.map", error;
  auto w = PerfMapWriter::Open(&error, path);
  ASSERT_TRUE(w) << error;
  ASSERT_TRUE(w->Add(0x7f12ab000000, 0x234, "fib@fib.lua:3", &error)) << error;
  ASSERT_TRUE(w->Add(0x10, 1, "bad\nname", &error)) << error;
  // Visible at once: no buffering.
  std::vector<std::string> lines = Lines(path);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "7f12ab000000 234 fib@fib.lua:3");
  EXPECT_EQ(lines[1], "10 1 bad name");
}

TEST(PerfMapWriter, ReplacesAStaleMap) {
  testing::TempDir dir;
  std::string path = dir.path() + "/perf-2.map", error;
  { std::ofstream(path) << "1000 10 stale_function_of_an_earlier_process\n"; }
  auto w = PerfMapWriter::Open(&error, path);
  ASSERT_TRUE(w) << error;
  ASSERT_TRUE(w->Add(0x2000, 0x20, "g", &error));
  EXPECT_EQ(Lines(path), std::vector<std::string>{"2000 20 g"});
}

TEST(PerfMapWriter, ConcurrentLinesStayWhole) {
  testing::TempDir dir;
  std::string path = dir.path() + "/perf-3.map", error;
  auto w = PerfMapWriter::Open(&error, path);
  ASSERT_TRUE(w) << error;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; t++)
    threads.emplace_back([&, t] {
      std::string e;
      for (int i = 0; i < 500; i++) w->Add(0x1000 * (t + 1) + i, 16, "f" + std::to_string(t), &e);
    });
  for (auto& th : threads) th.join();
  std::vector<std::string> lines = Lines(path);
  ASSERT_EQ(lines.size(), 2000u);
  for (const std::string& l : lines) {
    std::istringstream in(l);
    std::string start, size, name, extra;
    in >> start >> size >> name;
    EXPECT_FALSE(in >> extra) << l;
    EXPECT_EQ(size, "10") << l;
    EXPECT_EQ(name.substr(0, 1), "f") << l;
  }
}

TEST(PerfMapWriter, UnwritablePathIsAClearError) {
  std::string error;
  EXPECT_FALSE(PerfMapWriter::Open(&error, "/nonexistent/perf-1.map"));
  EXPECT_NE(error.find("/nonexistent/perf-1.map"), std::string::npos) << error;
}

}  // namespace
}  // namespace jitscope::perf
