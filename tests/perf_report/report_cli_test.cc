// jitscope report / flamegraph end to end: a real `perf record -g` of the
// interpreter running a CPU-bound Lua script, read back through the real
// perf script; and the one-line errors (exit 1) on missing directories and
// garbage perf data.
#include <dirent.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "harness/paths.h"
#include "harness/temp_dir.h"
#include "harness/tool_runner.h"

namespace jitscope {
namespace {

using testing::BinPath;
using testing::RunTool;
using testing::SourcePath;
using testing::TempDir;
using testing::ToolResult;

constexpr auto kTimeout = std::chrono::seconds(120);

ToolResult Jitscope(std::vector<std::string> args) {
  args.insert(args.begin(), BinPath("jitscope"));
  return RunTool(args, kTimeout);
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteAll(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

std::vector<std::string> ListDir(const std::string& path) {
  std::vector<std::string> names;
  if (DIR* d = opendir(path.c_str())) {
    while (dirent* e = readdir(d))
      if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") names.push_back(e->d_name);
    closedir(d);
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Exactly one line: a clear message, no stack of errors or partial output.
void ExpectOneLineError(const ToolResult& r, const std::string& needle) {
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
}

// One recording shared by the tests of the suite (recording is the slow
// part); a machine without perf or perf_event_open skips them, saying why.
class RecordedRunTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::optional<std::string> perf = testing::FindTool("perf");
    if (!perf) {
      skip_reason_ = new std::string("this machine lacks 'perf' in PATH (run scripts/install-deps)");
      return;
    }
    dir_ = new TempDir();
    ToolResult probe = RunTool({*perf, "record", "-e", "cpu-clock", "-o", dir_->File("probe.data"), "true"}, kTimeout);
    if (probe.exit_code != 0) {
      skip_reason_ = new std::string("perf_event_open is not permitted here (perf record -e cpu-clock true failed: " +
                                     probe.err.substr(0, 300) + ")");
      return;
    }
    std::remove(dir_->File("probe.data").c_str());
    record_ = new ToolResult(RunTool({*perf, "record", "-k", "1", "-e", "cpu-clock", "-g", "-F", "2000", "-o",
                                      dir_->File("perf.data"), "--", BinPath("jitvm"), "--jit=off",
                                      SourcePath("tests/perf_report/lua/busy.lua")},
                                     kTimeout));
  }
  static void TearDownTestSuite() {
    delete record_;
    delete dir_;
    delete skip_reason_;
    record_ = nullptr;
    dir_ = nullptr;
    skip_reason_ = nullptr;
  }
  void SetUp() override {
    if (skip_reason_ != nullptr) GTEST_SKIP() << *skip_reason_;
    ASSERT_EQ(record_->exit_code, 0) << record_->Describe();
  }

  static std::string* skip_reason_;
  static TempDir* dir_;
  static ToolResult* record_;
};

std::string* RecordedRunTest::skip_reason_ = nullptr;
TempDir* RecordedRunTest::dir_ = nullptr;
ToolResult* RecordedRunTest::record_ = nullptr;

TEST_F(RecordedRunTest, ReportJsonFindsTheInterpreterLoop) {
  ToolResult r = Jitscope({"report", dir_->path(), "--json", "--limit", "0"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["file"], dir_->File("perf.data"));
  EXPECT_TRUE(j["has_callchains"].get<bool>());
  uint64_t samples = j["samples"].get<uint64_t>();
  // ~0.5 s at 2000 Hz is ~1000 samples; a loaded machine gives fewer.
  EXPECT_GE(samples, 50u);
  uint64_t self_sum = 0;
  const nlohmann::json* execute = nullptr;
  for (const nlohmann::json& f : j["functions"]) {
    uint64_t self = f["self"].get<uint64_t>();
    uint64_t total = f["total"].get<uint64_t>();
    self_sum += self;
    EXPECT_LE(self, total) << f.dump();
    EXPECT_LE(total, samples) << f.dump();
    EXPECT_NEAR(f["self_percent"].get<double>(), 100.0 * double(self) / double(samples), 0.01);
    std::string name = f["name"];
    // The interpreter's dispatch loop, jitvm::execute, is where a --jit=off
    // run spends its time.
    if (f["dso"] == "jitvm" && name.find("execute") != std::string::npos && execute == nullptr) execute = &f;
  }
  EXPECT_EQ(self_sum, samples);
  EXPECT_EQ(j["function_count"].get<size_t>(), j["functions"].size());
  ASSERT_NE(execute, nullptr) << r.out;
  EXPECT_EQ((*execute)["kind"], "native");
  EXPECT_GT((*execute)["self"].get<uint64_t>(), samples / 4) << execute->dump();

  ToolResult limited = Jitscope({"report", dir_->path(), "--json", "--limit", "2"});
  ASSERT_EQ(limited.exit_code, 0) << limited.Describe();
  EXPECT_EQ(nlohmann::json::parse(limited.out)["functions"].size(), 2u);
}

TEST_F(RecordedRunTest, ReportTextHasHeaderAndColumns) {
  ToolResult r = Jitscope({"report", dir_->path(), "--limit", "5"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  std::istringstream lines(r.out);
  std::string header, columns, first;
  std::getline(lines, header);
  std::getline(lines, columns);
  std::getline(lines, first);
  EXPECT_NE(header.find(" samples in " + dir_->File("perf.data") + " (with callchains)"), std::string::npos) << r.out;
  std::istringstream words(columns);
  std::vector<std::string> names{std::istream_iterator<std::string>(words), std::istream_iterator<std::string>()};
  EXPECT_EQ(names, (std::vector<std::string>{"SELF%", "SELF", "TOTAL%", "TOTAL", "FUNCTION", "DSO"})) << r.out;
  EXPECT_NE(first.find("execute"), std::string::npos) << r.out;  // the top self function
  EXPECT_NE(r.out.find("more functions; --limit 0 shows all"), std::string::npos) << r.out;
}

TEST_F(RecordedRunTest, FlamegraphWritesAValidSvg) {
  TempDir out;
  ToolResult r = Jitscope({"flamegraph", dir_->path(), "-o", out.File("x.svg")});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_NE(r.out.find("to " + out.File("x.svg")), std::string::npos) << r.out;
  std::string svg = ReadAll(out.File("x.svg"));
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_NE(svg.find("execute ("), std::string::npos);  // a <title> of the hot frame
  EXPECT_EQ(ListDir(out.path()), std::vector<std::string>{"x.svg"});  // no temporary file left
  if (std::optional<std::string> xmllint = testing::FindTool("xmllint")) {
    ToolResult lint = RunTool({*xmllint, "--noout", out.File("x.svg")}, kTimeout);
    EXPECT_EQ(lint.exit_code, 0) << lint.Describe();
  }

  ToolResult folded = Jitscope({"flamegraph", dir_->path(), "--folded", "--output", out.File("x.folded")});
  ASSERT_EQ(folded.exit_code, 0) << folded.Describe();
  EXPECT_NE(ReadAll(out.File("x.folded")).find("execute"), std::string::npos);
}

TEST_F(RecordedRunTest, PerfJitDataIsPreferred) {
  TempDir dir;
  WriteAll(dir.File("perf.jit.data"), ReadAll(dir_->File("perf.data")));
  WriteAll(dir.File("perf.data"), "garbage that perf would reject");
  ToolResult r = Jitscope({"report", dir.path(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(nlohmann::json::parse(r.out)["file"], dir.File("perf.jit.data"));
}

TEST_F(RecordedRunTest, TruncatedPerfDataIsAOneLineError) {
  // As a recording cut short by a full disk leaves it. perf 6.1 reads the
  // samples through mmap up to where the header says they end: a cut whose
  // last record reaches into a page past the end kills it with SIGBUS (the
  // cut at a page boundary always does; the cut in the middle does about
  // one time in a hundred, as the recording's size varies), any other cut
  // makes it fail on the zeros after the end ("failed to process type",
  // exit 234). Either way it is perf failing, and the file's header says
  // it is truncated.
  std::string data = ReadAll(dir_->File("perf.data"));
  ToolResult whole = Jitscope({"report", dir_->path(), "--json"});
  ASSERT_EQ(whole.exit_code, 0) << whole.Describe();
  uint64_t whole_samples = nlohmann::json::parse(whole.out)["samples"].get<uint64_t>();
  size_t half = data.size() / 2;
  size_t page_cut = half / 4096 * 4096;
  ASSERT_GT(page_cut, 4096u) << "a recording of " << data.size() << " bytes";
  for (size_t cut : {half, page_cut}) {
    SCOPED_TRACE("perf.data cut to " + std::to_string(cut) + " of " + std::to_string(data.size()) + " bytes");
    TempDir dir;
    WriteAll(dir.File("perf.data"), data.substr(0, cut));
    ToolResult r = Jitscope({"report", dir.path(), "--json"});
    if (r.exit_code == 0) {
      // A perf that stops at the end of the file reads a shorter recording.
      EXPECT_LT(nlohmann::json::parse(r.out)["samples"].get<uint64_t>(), whole_samples);
    } else {
      ExpectOneLineError(r, "perf script failed on " + dir.File("perf.data") + " (");
      EXPECT_NE(r.err.find("the file is truncated (" + std::to_string(cut) + " bytes;"), std::string::npos) << r.err;
    }
  }
}

TEST(ReportErrorsTest, MissingOrEmptyDirectory) {
  TempDir dir;
  ExpectOneLineError(Jitscope({"report", dir.File("nope")}), dir.File("nope") + ": No such file or directory");
  ExpectOneLineError(Jitscope({"report", dir.path()}), "no perf.jit.data or perf.data");
  ExpectOneLineError(Jitscope({"flamegraph", dir.File("nope"), "-o", dir.File("x.svg")}), dir.File("nope"));
  EXPECT_EQ(ListDir(dir.path()), std::vector<std::string>{});
}

TEST(ReportErrorsTest, GarbagePerfData) {
  if (!testing::FindTool("perf")) GTEST_SKIP() << "this machine lacks 'perf' in PATH (run scripts/install-deps)";
  TempDir dir;
  std::string junk(8192, '\0');
  for (size_t i = 0; i < junk.size(); i++) junk[i] = char((i * 2654435761u) >> 13);
  WriteAll(dir.File("perf.data"), junk);
  ExpectOneLineError(Jitscope({"report", dir.path()}), "perf script failed on " + dir.File("perf.data"));
  ExpectOneLineError(Jitscope({"report", dir.path(), "--json"}), "perf script failed on " + dir.File("perf.data"));
  ExpectOneLineError(Jitscope({"flamegraph", dir.path(), "-o", dir.File("x.svg")}), dir.File("perf.data"));
  EXPECT_EQ(ListDir(dir.path()), std::vector<std::string>{"perf.data"});
}

TEST(ReportErrorsTest, BadCommandLinesExitTwo) {
  TempDir dir;
  ToolResult no_output = Jitscope({"flamegraph", dir.path()});
  EXPECT_EQ(no_output.exit_code, 2) << no_output.Describe();
  EXPECT_NE(no_output.err.find("missing -o"), std::string::npos) << no_output.err;
  EXPECT_EQ(Jitscope({"report", dir.path(), "--limit", "lots"}).exit_code, 2);
  EXPECT_EQ(Jitscope({"report"}).exit_code, 2);
  EXPECT_EQ(Jitscope({"flamegraph", dir.path(), "-o", "x.svg", "--width", "5"}).exit_code, 2);
  for (const char* command : {"report", "flamegraph"}) {
    ToolResult help = Jitscope({"help", command});
    EXPECT_EQ(help.exit_code, 0);
    EXPECT_EQ(help.out.rfind(std::string("Usage: jitscope ") + command + " DIR", 0), 0u) << help.out;
  }
}

}  // namespace
}  // namespace jitscope
