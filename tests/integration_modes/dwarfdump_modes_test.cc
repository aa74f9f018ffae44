// LLVM's dwarfdump accepts the symbol files of every debug-info layout: a
// sample of them copied out of a stopped VM passes `--verify`, and its
// `.debug_frame` holds one FDE per function symbol. For compressed groups
// `xz -t` accepts .gnu_debugdata, and the ELF file that `xz -d` gets out of
// it (the same bytes liblzma gets) passes the same checks.
#include <gtest/gtest.h>

#include <fstream>
#include <tuple>

#include "harness/paths.h"
#include "harness/temp_dir.h"
#include "modes_jitvm.h"
#include "registered_symfiles.h"

namespace jitscope::integration {
namespace {

// Every multi-function file, plus this many single-function ones (the
// first and last registered) per VM: one dwarfdump run each.
constexpr size_t kSingleSamples = 4;

using Param = std::tuple<DebugMode, const char*>;

size_t CountOccurrences(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) count++;
  return count;
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// --verify passes and .debug_frame has one FDE per function.
void ExpectDwarfdumpAccepts(const std::string& dwarfdump, const std::string& path, size_t functions) {
  testing::ToolResult verify = testing::RunTool({dwarfdump, "--verify", path}, kToolTimeout);
  EXPECT_EQ(verify.exit_code, 0) << path << "\n" << verify.Describe();
  EXPECT_NE(verify.out.find("No errors."), std::string::npos) << path << "\n" << verify.Describe();

  testing::ToolResult frames = testing::RunTool({dwarfdump, "--debug-frame", path}, kToolTimeout);
  EXPECT_EQ(frames.exit_code, 0) << path << "\n" << frames.Describe();
  EXPECT_EQ(frames.err, "") << path << "\n" << frames.Describe();
  EXPECT_EQ(CountOccurrences(frames.out, " FDE cie="), functions) << path << "\n" << frames.out;
}

class DwarfdumpModes : public ::testing::TestWithParam<Param> {};

TEST_P(DwarfdumpModes, SampledSymbolFilesVerify) {
  std::optional<std::string> dwarfdump = testing::FindTool("llvm-dwarfdump-14");
  if (!dwarfdump) dwarfdump = testing::FindTool("llvm-dwarfdump");
  if (!dwarfdump) GTEST_SKIP() << "this machine lacks llvm-dwarfdump(-14) in PATH";
  const DebugMode& mode = std::get<0>(GetParam());
  std::optional<std::string> xz = testing::FindTool("xz");
  if (mode.layout == DebugLayout::kCompressed && !xz) GTEST_SKIP() << "this machine lacks xz in PATH";

  std::vector<std::string> flags = {"--jit-threshold=0", "--test-builtins",
                                    std::string("--jit-frame-pointers=") + std::get<1>(GetParam())};
  flags.insert(flags.end(), mode.flags.begin(), mode.flags.end());
  std::string error;
  std::unique_ptr<StoppingJitvm> vm = StoppingJitvm::Start(flags, "nested.lua", &error);
  ASSERT_NE(vm, nullptr) << error;
  std::vector<RegisteredSymfile> files;
  ASSERT_TRUE(ReadRegisteredSymfiles(vm->pid(), &files, &error)) << error;
  ASSERT_FALSE(files.empty());

  std::vector<const RegisteredSymfile*> sample;
  std::vector<const RegisteredSymfile*> singles;
  for (const RegisteredSymfile& file : files) {
    (file.AllFunctions().size() > 1 ? sample : singles).push_back(&file);
  }
  size_t groups = sample.size();
  for (size_t i = 0; i < singles.size() && i < kSingleSamples; i++) {
    sample.push_back(i % 2 == 0 ? singles[i / 2] : singles[singles.size() - 1 - i / 2]);
  }
  if (mode.layout != DebugLayout::kUnpacked) {
    ASSERT_GT(groups, 0u) << DescribeSymfiles(files);
  }

  testing::TempDir temp_dir;
  size_t compressed = 0;
  for (size_t i = 0; i < sample.size(); i++) {
    const RegisteredSymfile& file = *sample[i];
    std::string path = temp_dir.File("symfile" + std::to_string(i) + ".elf");
    WriteFile(path, file.bytes);
    SCOPED_TRACE(DescribeSymfiles({file}));
    ExpectDwarfdumpAccepts(*dwarfdump, path, file.parsed.functions.size());
    if (!file.compressed) continue;
    compressed++;

    std::string xz_path = temp_dir.File("debugdata" + std::to_string(i) + ".xz");
    WriteFile(xz_path, file.debugdata);
    testing::ToolResult test = testing::RunTool({*xz, "-t", xz_path}, kToolTimeout);
    EXPECT_EQ(test.exit_code, 0) << test.Describe();
    testing::ToolResult decompress = testing::RunTool({*xz, "-d", "-k", xz_path}, kToolTimeout);
    ASSERT_EQ(decompress.exit_code, 0) << decompress.Describe();
    std::string inner_path = xz_path.substr(0, xz_path.size() - 3);
    EXPECT_EQ(ReadWholeFile(inner_path), file.inner_bytes) << "xz and liblzma disagree on " << xz_path;
    ExpectDwarfdumpAccepts(*dwarfdump, inner_path, file.inner.functions.size());
  }
  if (mode.layout == DebugLayout::kCompressed) {
    EXPECT_GT(compressed, 0u) << DescribeSymfiles(files);
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, DwarfdumpModes,
                         ::testing::Combine(::testing::ValuesIn(AllDebugModes()), ::testing::Values("on", "off")),
                         [](const ::testing::TestParamInfo<Param>& info) {
                           return std::string(std::get<0>(info.param).name) + "_fp_" + std::get<1>(info.param);
                         });

}  // namespace
}  // namespace jitscope::integration
