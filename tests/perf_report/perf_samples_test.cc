// perf_samples: the perf script parser on canned text (as perf 6.x prints it
// into a pipe), frame kinds, the self/total aggregation, and ReadRecording's
// errors on missing directories, missing files, failing and garbage perf.
#include "perf_integration/perf_samples.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>

#include "harness/paths.h"
#include "harness/temp_dir.h"

namespace jitscope::perf {
namespace {

using testing::TempDir;
using namespace std::string_view_literals;

// Captured from `perf script -F comm,pid,tid,time,ip,sym,dso --ns` of a
// recording without -g: comm is right-aligned, so lines start with spaces.
constexpr std::string_view kOneLineSamples =
    "           jitvm  4559/4559    262.288320354:  ffffffff82231a78 mas_leaf_max_gap ([kernel.kallsyms])\n"
    "           jitvm  4559/4561    262.289916711:      5640500f08be jitvm::precall (/work/main/build/bin/jitvm)\n"
    "           jitvm  4559/4561    262.290411304:      5640500f0840 jitvm::precall (/work/main/build/bin/jitvm)\n"
    "     Web Content  100/101    1.000001000:      7f00 [unknown] ([unknown])\n";

// The same with -g: header, tab-indented frames leaf first, blank line.
constexpr std::string_view kCallchainSamples =
    "jitvm  4047/4047    244.736124405: \n"
    "\tffffffff8161936d folio_add_file_rmap_ptes ([kernel.kallsyms])\n"
    "\tffffffff81000c82 asm_exc_page_fault ([kernel.kallsyms])\n"
    "\t           13608 _dl_load_cache_lookup (/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2)\n"
    "\t    7f89c6b3f8a8 [unknown] ([unknown])\n"
    "\t               0 [unknown] ([unknown])\n"
    "\n"
    "jitvm  4047/4049    244.740384922: \n"
    "\t           402fa jitvm::execute (/work/main/build/bin/jitvm)\n"
    "\t    7f897c000330 [unknown] ([unknown])\n"
    "\n";

TEST(ParsePerfScriptTest, OneLineSamplesWithoutCallchains) {
  ParseStats stats;
  std::vector<Sample> samples = ParsePerfScript(kOneLineSamples, &stats);
  EXPECT_EQ(stats.bad_lines, 0u) << stats.first_bad_line;
  ASSERT_EQ(samples.size(), 4u);
  EXPECT_EQ(samples[0].comm, "jitvm");
  EXPECT_EQ(samples[0].pid, 4559);
  EXPECT_EQ(samples[0].tid, 4559);
  EXPECT_EQ(samples[0].time_ns, 262288320354ull);
  EXPECT_FALSE(samples[0].has_callchain);
  ASSERT_EQ(samples[0].frames.size(), 1u);
  EXPECT_EQ(samples[0].frames[0].ip, 0xffffffff82231a78ull);
  EXPECT_EQ(samples[0].frames[0].symbol, "mas_leaf_max_gap");
  EXPECT_EQ(samples[0].frames[0].dso, "[kernel.kallsyms]");
  EXPECT_EQ(samples[1].tid, 4561);
  EXPECT_EQ(samples[1].frames[0].symbol, "jitvm::precall");
  EXPECT_EQ(samples[1].frames[0].dso, "/work/main/build/bin/jitvm");
  // A comm with a space, and perf's own spelling of an unknown symbol.
  EXPECT_EQ(samples[3].comm, "Web Content");
  EXPECT_EQ(samples[3].pid, 100);
  EXPECT_EQ(samples[3].time_ns, 1000001000ull);
  EXPECT_EQ(samples[3].frames[0].symbol, "[unknown]");
  EXPECT_EQ(samples[3].frames[0].dso, "[unknown]");
}

TEST(ParsePerfScriptTest, CallchainsLeafFirst) {
  ParseStats stats;
  std::vector<Sample> samples = ParsePerfScript(kCallchainSamples, &stats);
  EXPECT_EQ(stats.bad_lines, 0u) << stats.first_bad_line;
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_TRUE(samples[0].has_callchain);
  ASSERT_EQ(samples[0].frames.size(), 5u);
  EXPECT_EQ(samples[0].frames[0].symbol, "folio_add_file_rmap_ptes");
  EXPECT_EQ(samples[0].frames[2].ip, 0x13608u);
  EXPECT_EQ(samples[0].frames[2].symbol, "_dl_load_cache_lookup");
  EXPECT_EQ(samples[0].frames[2].dso, "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2");
  EXPECT_EQ(samples[0].frames[4].ip, 0u);
  EXPECT_EQ(samples[0].frames[4].symbol, "[unknown]");
  EXPECT_EQ(samples[1].tid, 4049);
  ASSERT_EQ(samples[1].frames.size(), 2u);
  EXPECT_EQ(samples[1].frames[0].symbol, "jitvm::execute");
}

TEST(ParsePerfScriptTest, SymbolsWithSpacesParenthesesAtAndColons) {
  constexpr std::string_view kText =
      "jitvm 1/1 5.000000001:\n"
      "\t    7f0000001000 fib@fib.lua:3 (/root/.debug/jit/jitted-4559-12.so)\n"
      "\t    7f0000002000 std::vector<int, std::allocator<int> >::push_back(int const&) (/usr/lib/libx.so)\n"
      "\t    7f0000003000 operator()(int) const+0x1f (/opt/my lib (v2)/liby.so)\n"
      "\t    7f0000004000 [unknown] (/memfd:jit-cache (deleted))\n"
      "\t    7f0000005000 main+0xabc (/usr/bin/prog)\n"
      "\t    7f0000006000 0x7f0000006000 (/tmp/perf-4559.map)\n";
  ParseStats stats;
  std::vector<Sample> samples = ParsePerfScript(kText, &stats);
  EXPECT_EQ(stats.bad_lines, 0u) << stats.first_bad_line;
  ASSERT_EQ(samples.size(), 1u);  // no trailing blank line: ends at end of text
  const std::vector<Frame>& f = samples[0].frames;
  ASSERT_EQ(f.size(), 6u);
  EXPECT_EQ(f[0].symbol, "fib@fib.lua:3");
  EXPECT_EQ(f[0].dso, "/root/.debug/jit/jitted-4559-12.so");
  EXPECT_EQ(f[1].symbol, "std::vector<int, std::allocator<int> >::push_back(int const&)");
  EXPECT_EQ(f[1].dso, "/usr/lib/libx.so");
  EXPECT_EQ(f[2].symbol, "operator()(int) const");  // perf's +0x1f dropped
  EXPECT_EQ(f[2].dso, "/opt/my lib (v2)/liby.so");
  EXPECT_EQ(f[3].symbol, "[unknown]");
  EXPECT_EQ(f[3].dso, "/memfd:jit-cache (deleted)");
  EXPECT_EQ(f[4].symbol, "main");
  EXPECT_EQ(f[5].ip, 0x7f0000006000u);
}

TEST(ParsePerfScriptTest, TruncatedOutputKeepsWhatWasRead) {
  std::string text(kCallchainSamples);
  // Cut inside the second sample's second frame, as a killed perf leaves it.
  text = text.substr(0, text.find("\t    7f897c000330") + 12);
  ParseStats stats;
  std::vector<Sample> samples = ParsePerfScript(text, &stats);
  ASSERT_EQ(samples.size(), 2u);
  ASSERT_EQ(samples[1].frames.size(), 1u);
  EXPECT_EQ(samples[1].frames[0].symbol, "jitvm::execute");
  EXPECT_EQ(stats.bad_lines, 1u);
  EXPECT_EQ(stats.first_bad_line_number, 10u);

  // A header with nothing after it yet is a sample perf could not unwind.
  std::vector<Sample> header_only = ParsePerfScript("jitvm  1/2    3.000000004:\n");
  ASSERT_EQ(header_only.size(), 1u);
  ASSERT_EQ(header_only[0].frames.size(), 1u);
  EXPECT_EQ(header_only[0].frames[0].symbol, "[unknown]");
}

TEST(ParsePerfScriptTest, GarbageIsCountedNotParsed) {
  // sv: the binary junk holds NUL bytes.
  constexpr std::string_view kGarbage =
      "incompatible file format (rerun with -v to learn more)\n"
      "\t not a frame\n"
      "PK\x03\x04\x14\x00\x06\x00 binary junk\n"
      "\tffff sym_without_dso\n"
      "jitvm 1/1 notatime: ffff sym (dso)\n"
      "jitvm 1/1 2.5: zzzz sym (dso)\n"sv;
  ParseStats stats;
  std::vector<Sample> samples = ParsePerfScript(kGarbage, &stats);
  EXPECT_TRUE(samples.empty());
  EXPECT_EQ(stats.lines, 6u);
  EXPECT_EQ(stats.bad_lines, 6u);
  EXPECT_EQ(stats.first_bad_line_number, 1u);
  EXPECT_EQ(ParsePerfScript("").size(), 0u);
  // Frames outside any sample are not samples.
  EXPECT_TRUE(ParsePerfScript("\t    402fa jitvm::execute (/bin/jitvm)\n").empty());
}

TEST(FrameKindTest, JitNativeKernel) {
  auto kind = [](uint64_t ip, std::string dso) { return ClassifyFrame(Frame{ip, "f", std::move(dso)}); };
  EXPECT_EQ(kind(0x7f00, "/root/.debug/jit/jitted-4559-12.so"), FrameKind::kJit);
  EXPECT_EQ(kind(0x7f00, "/tmp/perf-4559.map"), FrameKind::kJit);
  EXPECT_EQ(kind(0x7f00, "[JIT] tid 4559"), FrameKind::kJit);
  EXPECT_EQ(kind(0x7f00, "/memfd:jit-cache (deleted)"), FrameKind::kJit);
  EXPECT_EQ(kind(0x402fa, "/work/main/build/bin/jitvm"), FrameKind::kNative);
  EXPECT_EQ(kind(0x7f00, "/usr/lib/jitted-x.so"), FrameKind::kNative);  // not perf inject's name
  EXPECT_EQ(kind(0x7f00, "[unknown]"), FrameKind::kNative);
  EXPECT_EQ(kind(0xffffffff8161936dull, "[kernel.kallsyms]"), FrameKind::kKernel);
  EXPECT_EQ(kind(0xffffffffc0001000ull, "[xfs]"), FrameKind::kKernel);
  EXPECT_EQ(kind(0xffffffff81000000ull, "[unknown]"), FrameKind::kKernel);
  EXPECT_EQ(DsoBasename("/usr/lib/libc.so.6"), "libc.so.6");
  EXPECT_EQ(DsoBasename("[kernel.kallsyms]"), "[kernel.kallsyms]");
  EXPECT_EQ(DsoBasename("/memfd:jit-cache (deleted)"), "memfd:jit-cache (deleted)");
}

Sample Chain(std::vector<std::pair<std::string, std::string>> leaf_first) {
  Sample s;
  s.has_callchain = true;
  for (auto& [sym, dso] : leaf_first) s.frames.push_back(Frame{0x1000, sym, dso});
  return s;
}

const FunctionStats* Find(const Profile& p, const std::string& name, const std::string& dso) {
  for (const FunctionStats& f : p.functions)
    if (f.name == name && f.dso == dso) return &f;
  return nullptr;
}

TEST(BuildProfileTest, SelfAndTotalCountRecursionOnce) {
  std::vector<Sample> samples = {
      Chain({{"fib", "/a/jitted-1-1.so"}, {"fib", "/a/jitted-1-1.so"}, {"fib", "/a/jitted-1-1.so"},
             {"execute", "/bin/jitvm"}, {"main", "/bin/jitvm"}}),
      Chain({{"fib", "/a/jitted-1-1.so"}, {"execute", "/bin/jitvm"}, {"main", "/bin/jitvm"}}),
      Chain({{"execute", "/bin/jitvm"}, {"fib", "/a/jitted-1-1.so"}, {"execute", "/bin/jitvm"},
             {"main", "/bin/jitvm"}}),
      Chain({{"memcpy", "/lib/libc.so.6"}, {"main", "/bin/jitvm"}}),
      // Same symbol in another DSO is another function.
      Chain({{"memcpy", "/lib/other.so"}}),
  };
  Profile p = BuildProfile(samples);
  EXPECT_EQ(p.samples, 5u);
  EXPECT_TRUE(p.has_callchains);
  ASSERT_EQ(p.functions.size(), 5u);
  const FunctionStats* fib = Find(p, "fib", "jitted-1-1.so");
  ASSERT_NE(fib, nullptr);
  EXPECT_EQ(fib->self, 2u);
  EXPECT_EQ(fib->total, 3u);
  EXPECT_EQ(fib->kind, FrameKind::kJit);
  const FunctionStats* execute = Find(p, "execute", "jitvm");
  ASSERT_NE(execute, nullptr);
  EXPECT_EQ(execute->self, 1u);
  EXPECT_EQ(execute->total, 3u);
  EXPECT_EQ(execute->kind, FrameKind::kNative);
  const FunctionStats* main = Find(p, "main", "jitvm");
  ASSERT_NE(main, nullptr);
  EXPECT_EQ(main->self, 0u);
  EXPECT_EQ(main->total, 4u);
  ASSERT_NE(Find(p, "memcpy", "libc.so.6"), nullptr);
  ASSERT_NE(Find(p, "memcpy", "other.so"), nullptr);
  // Sorted by self, then total.
  EXPECT_EQ(p.functions[0].name, "fib");
  EXPECT_EQ(p.functions[1].name, "execute");
  EXPECT_EQ(p.functions.back().name, "main");
  uint64_t self_sum = 0;
  for (const FunctionStats& f : p.functions) self_sum += f.self;
  EXPECT_EQ(self_sum, p.samples);
  EXPECT_DOUBLE_EQ(Percent(fib->total, p.samples), 60.0);
  EXPECT_DOUBLE_EQ(Percent(1, 0), 0.0);
}

TEST(BuildProfileTest, WithoutCallchainsTotalIsSelf) {
  std::vector<Sample> samples = ParsePerfScript(kOneLineSamples);
  Profile p = BuildProfile(samples);
  EXPECT_FALSE(p.has_callchains);
  EXPECT_EQ(p.samples, 4u);
  ASSERT_EQ(p.functions.size(), 3u);
  for (const FunctionStats& f : p.functions) EXPECT_EQ(f.self, f.total) << f.name;
  EXPECT_EQ(p.functions[0].name, "jitvm::precall");
  EXPECT_EQ(p.functions[0].dso, "jitvm");
  EXPECT_EQ(p.functions[0].self, 2u);
  EXPECT_TRUE(BuildProfile({}).functions.empty());
}

void WriteFile(const std::string& path, const std::string& text, bool executable = false) {
  std::ofstream(path) << text;
  if (executable) chmod(path.c_str(), 0755);
}

// Sets an environment variable for one test and restores it.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = getenv(name)) old_ = old;
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_.empty()) {
      unsetenv(name_);
    } else {
      setenv(name_, old_.c_str(), 1);
    }
  }

 private:
  const char* name_;
  std::string old_;
};

TEST(ReadRecordingTest, MissingDirectoryOrDataIsAnErrorNamingIt) {
  TempDir dir;
  std::vector<Sample> samples;
  std::string error;
  EXPECT_FALSE(ReadRecording(dir.File("nope"), &samples, &error));
  EXPECT_NE(error.find(dir.File("nope")), std::string::npos) << error;
  EXPECT_FALSE(ReadRecording(dir.path(), &samples, &error));
  EXPECT_NE(error.find("no perf.jit.data or perf.data"), std::string::npos) << error;
  WriteFile(dir.File("plain"), "x");
  EXPECT_FALSE(ReadRecording(dir.File("plain"), &samples, &error));
  EXPECT_NE(error.find("not a directory"), std::string::npos) << error;
}

TEST(ReadRecordingTest, PrefersPerfJitData) {
  TempDir dir;
  WriteFile(dir.File("perf.data"), "");
  std::string file;
  std::string error;
  ASSERT_TRUE(FindPerfDataFile(dir.path(), &file, &error)) << error;
  EXPECT_EQ(file, dir.File("perf.data"));
  WriteFile(dir.File("perf.jit.data"), "");
  ASSERT_TRUE(FindPerfDataFile(dir.path(), &file, &error)) << error;
  EXPECT_EQ(file, dir.File("perf.jit.data"));
}

TEST(ReadRecordingTest, FailingMissingOrGarbagePrintingPerfIsAOneLineError) {
  TempDir dir;
  WriteFile(dir.File("perf.data"), "not really perf data");
  std::vector<Sample> samples;
  std::string error;
  {
    ScopedEnv perf("JITSCOPE_PERF", dir.File("no-such-perf"));
    EXPECT_FALSE(ReadRecording(dir.path(), &samples, &error));
    EXPECT_NE(error.find("cannot run"), std::string::npos) << error;
    EXPECT_NE(error.find(dir.File("perf.data")), std::string::npos) << error;
  }
  {
    WriteFile(dir.File("failing-perf"), "#!/bin/sh\necho 'first complaint' >&2\necho 'second' >&2\nexit 3\n", true);
    ScopedEnv perf("JITSCOPE_PERF", dir.File("failing-perf"));
    EXPECT_FALSE(ReadRecording(dir.path(), &samples, &error));
    EXPECT_EQ(error, "perf script failed on " + dir.File("perf.data") + " (exit 3): first complaint; second");
  }
  {
    WriteFile(dir.File("garbage-perf"), "#!/bin/sh\necho 'hello world'\necho 'more text'\n", true);
    ScopedEnv perf("JITSCOPE_PERF", dir.File("garbage-perf"));
    EXPECT_FALSE(ReadRecording(dir.path(), &samples, &error));
    EXPECT_NE(error.find("not samples we can read (line 1: 'hello world')"), std::string::npos) << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  }
  {
    // The arguments we pass, as perf would see them.
    WriteFile(dir.File("echo-perf"),
              "#!/bin/sh\necho \"jitvm 1/1 1.000000001: 1000 args:$*: (/bin/x)\"\n", true);
    ScopedEnv perf("JITSCOPE_PERF", dir.File("echo-perf"));
    ASSERT_TRUE(ReadRecording(dir.path(), &samples, &error)) << error;
    ASSERT_EQ(samples.size(), 1u);
    EXPECT_EQ(samples[0].frames[0].symbol,
              "args:script -i " + dir.File("perf.data") + " -F comm,pid,tid,time,ip,sym,dso --ns:");
  }
}

// The start of a perf.data header (perf_file_header, little-endian): magic,
// header size, attr size, attrs {offset, size}, data {offset, size}.
std::string PerfFileHeader(uint64_t data_offset, uint64_t data_size) {
  std::string h = "PERFILE2";
  for (uint64_t v : {uint64_t{104}, uint64_t{136}, uint64_t{104}, uint64_t{136}, data_offset, data_size})
    for (int i = 0; i < 8; i++) h += char((v >> (8 * i)) & 0xff);
  return h + std::string(104 - h.size(), '\0');
}

TEST(ReadRecordingTest, CrashingPerfIsAFailureAndATruncatedFileIsNamed) {
  // perf 6.1 dies of SIGBUS, saying nothing, on a perf.data cut short near
  // a page boundary: the same failure as any other, and the header tells.
  TempDir dir;
  WriteFile(dir.File("crashing-perf"), "#!/bin/sh\nkill -BUS $$\n", true);
  ScopedEnv perf("JITSCOPE_PERF", dir.File("crashing-perf"));
  std::vector<Sample> samples;
  std::string error;
  WriteFile(dir.File("perf.data"), PerfFileHeader(240, 100000) + std::string(4000, 'x'));
  EXPECT_FALSE(ReadRecording(dir.path(), &samples, &error));
  EXPECT_EQ(error, "perf script failed on " + dir.File("perf.data") + " (killed by signal " + std::to_string(SIGBUS) +
                       ", " + strsignal(SIGBUS) + "): the file is truncated (4104 bytes; its header puts the end of the "
                       "samples at byte 100240)");
  // A whole file (or not a perf.data file at all) is not called truncated.
  WriteFile(dir.File("perf.data"), PerfFileHeader(240, 100) + std::string(236, 'x'));
  EXPECT_FALSE(ReadRecording(dir.path(), &samples, &error));
  EXPECT_EQ(error, "perf script failed on " + dir.File("perf.data") + " (killed by signal " + std::to_string(SIGBUS) +
                       ", " + strsignal(SIGBUS) + ")");
  WriteFile(dir.File("perf.data"), "not really perf data");
  EXPECT_FALSE(ReadRecording(dir.path(), &samples, &error));
  EXPECT_EQ(error.find("truncated"), std::string::npos) << error;
}

TEST(ReadRecordingTest, RealPerfRejectsGarbagePerfData) {
  if (!testing::FindTool("perf")) GTEST_SKIP() << "this machine lacks 'perf' in PATH (run scripts/install-deps)";
  TempDir dir;
  std::string junk(4096, '\0');
  for (size_t i = 0; i < junk.size(); i++) junk[i] = char((i * 7919) & 0xff);
  WriteFile(dir.File("perf.data"), junk);
  std::vector<Sample> samples;
  std::string error;
  EXPECT_FALSE(ReadRecording(dir.path(), &samples, &error));
  EXPECT_NE(error.find("perf script failed on " + dir.File("perf.data")), std::string::npos) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos) << error;
}

}  // namespace
}  // namespace jitscope::perf
