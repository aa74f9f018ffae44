// The in-memory ELF files jitvm registers, copied out of a stopped VM
// (entries from `jitscope descriptor --json`, bytes from /proc/PID/mem), are
// accepted by binutils' readelf and LLVM's dwarfdump, the two independent
// readers closest to what gdb and lldb do.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "harness/paths.h"
#include "harness/temp_dir.h"
#include "harness/tool_runner.h"
#include "jit_symfiles.h"
#include "jitvm_under_test.h"

namespace jitscope::integration {
namespace {

struct DumpedSymfile {
  std::string path;
  SymbolFile parsed;
};

std::string HexNoPrefix(uint64_t value) {
  std::ostringstream text;
  text << std::hex << value;
  return text.str();
}

// Stops fib.lua with every function compiled and copies out all the symbol
// files it registered.
class SymfileFixture : public ::testing::Test {
 protected:
  void Load(const std::string& debug_mode) {
    std::string error;
    vm_ = StoppedJitvm::Start({"--jit-threshold=0", "--jit-debug=" + debug_mode, "--test-builtins"}, "fib.lua",
                              &error);
    ASSERT_NE(vm_, nullptr) << error;
    ASSERT_FALSE(vm_->ground_truth().empty()) << vm_->Describe();
    std::vector<JitEntry> entries;
    ASSERT_TRUE(ReadJitEntries(vm_->pid(), &entries, &error)) << error;
    ASSERT_FALSE(entries.empty()) << vm_->Describe();
    for (size_t i = 0; i < entries.size(); i++) {
      DumpedSymfile dumped;
      std::string bytes;
      ASSERT_TRUE(ReadProcessMemory(vm_->pid(), entries[i].symfile_addr, entries[i].symfile_size, &bytes, &error))
          << error;
      ASSERT_TRUE(ParseSymbolFile(bytes, &dumped.parsed, &error)) << error;
      dumped.path = temp_dir_.File("symfile" + std::to_string(i) + ".elf");
      std::ofstream(dumped.path, std::ios::binary) << bytes;
      symfiles_.push_back(dumped);
    }
  }

  // The symbol file that defines `name`, or nullptr.
  const DumpedSymfile* Defining(const std::string& name, const ElfSymbol** symbol) const {
    for (const DumpedSymfile& dumped : symfiles_) {
      for (const ElfSymbol& function : dumped.parsed.functions) {
        if (function.name != name) continue;
        *symbol = &function;
        return &dumped;
      }
    }
    return nullptr;
  }

  testing::TempDir temp_dir_;
  std::unique_ptr<StoppedJitvm> vm_;
  std::vector<DumpedSymfile> symfiles_;
};

class ReadelfSymfile : public SymfileFixture, public ::testing::WithParamInterface<const char*> {
 protected:
  void SetUp() override { Load(GetParam()); }
};

class FullModeSymfile : public SymfileFixture {
 protected:
  void SetUp() override { Load("full"); }
};

TEST_P(ReadelfSymfile, ReadelfListsTheFunctionAndItsFrameInfo) {
  JITSCOPE_REQUIRE_TOOL(readelf, "readelf");
  const std::string& fib = vm_->ground_truth().front().name;  // innermost: fib@fib.lua:N
  const ElfSymbol* symbol = nullptr;
  const DumpedSymfile* dumped = Defining(fib, &symbol);
  ASSERT_NE(dumped, nullptr) << "no registered symbol file defines " << fib;

  testing::ToolResult result = testing::RunTool({readelf, "-W", "-S", "-s", "--debug-dump=frames", dumped->path},
                                                kToolTimeout);
  ASSERT_EQ(result.exit_code, 0) << result.Describe();
  EXPECT_EQ(result.err.find("Warning"), std::string::npos) << result.Describe();
  EXPECT_EQ(result.err.find("Error"), std::string::npos) << result.Describe();
  EXPECT_NE(result.out.find(" FUNC "), std::string::npos) << result.out;
  EXPECT_NE(result.out.find(fib), std::string::npos) << result.out;
  EXPECT_NE(result.out.find(".debug_frame"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("NOBITS"), std::string::npos) << ".text should be NOBITS\n" << result.out;
  EXPECT_NE(result.out.find(" CIE"), std::string::npos) << result.out;
  // readelf prints the FDE's range as pc=START..END (16 hex digits each).
  char range[64];
  snprintf(range, sizeof(range), "pc=%016llx..%016llx", static_cast<unsigned long long>(symbol->value),
           static_cast<unsigned long long>(symbol->value + symbol->size));
  EXPECT_NE(result.out.find(range), std::string::npos) << "no FDE covers exactly " << fib << "\n" << result.out;
}

TEST_P(ReadelfSymfile, LlvmDwarfdumpReadsTheFrameInfo) {
  JITSCOPE_REQUIRE_TOOL(dwarfdump, "llvm-dwarfdump-14");
  const std::string& fib = vm_->ground_truth().front().name;
  const ElfSymbol* symbol = nullptr;
  const DumpedSymfile* dumped = Defining(fib, &symbol);
  ASSERT_NE(dumped, nullptr) << "no registered symbol file defines " << fib;

  testing::ToolResult result = testing::RunTool({dwarfdump, "--debug-frame", dumped->path}, kToolTimeout);
  ASSERT_EQ(result.exit_code, 0) << result.Describe();
  EXPECT_EQ(result.err.find("error"), std::string::npos) << result.Describe();
  EXPECT_EQ(result.out.find("error"), std::string::npos) << result.Describe();
  EXPECT_NE(result.out.find(" CIE"), std::string::npos) << result.out;
  std::string range = "pc=" + HexNoPrefix(symbol->value) + "..." + HexNoPrefix(symbol->value + symbol->size);
  EXPECT_NE(result.out.find(range), std::string::npos) << "no FDE covers exactly " << fib << "\n" << result.out;
}

TEST_P(ReadelfSymfile, LlvmDwarfdumpVerifiesEverySymbolFile) {
  JITSCOPE_REQUIRE_TOOL(dwarfdump, "llvm-dwarfdump-14");
  for (const DumpedSymfile& dumped : symfiles_) {
    testing::ToolResult result = testing::RunTool({dwarfdump, "--verify", dumped.path}, kToolTimeout);
    EXPECT_EQ(result.exit_code, 0) << result.Describe();
    EXPECT_NE(result.out.find("No errors."), std::string::npos) << result.Describe();
  }
}

TEST_F(FullModeSymfile, LlvmDwarfdumpShowsLuaLinesAndSubprograms) {
  JITSCOPE_REQUIRE_TOOL(dwarfdump, "llvm-dwarfdump-14");
  const std::string& fib = vm_->ground_truth().front().name;
  const ElfSymbol* symbol = nullptr;
  const DumpedSymfile* dumped = Defining(fib, &symbol);
  ASSERT_NE(dumped, nullptr) << "no registered symbol file defines " << fib;

  testing::ToolResult result =
      testing::RunTool({dwarfdump, "--debug-info", "--debug-line", dumped->path}, kToolTimeout);
  ASSERT_EQ(result.exit_code, 0) << result.Describe();
  EXPECT_NE(result.out.find("DW_TAG_compile_unit"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("DW_TAG_subprogram"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("\"fib.lua\""), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("\"fib\""), std::string::npos) << "subprogram named after the Lua function\n"
                                                           << result.out;
  // A line-table row ("0xADDRESS  LINE  COLUMN ...") for the recursive call.
  int line = LineContaining("fib.lua", "return fib(n - 1) + fib(n - 2)");
  std::regex row("0x[0-9a-f]{16} +" + std::to_string(line) + " ");
  EXPECT_TRUE(std::regex_search(result.out, row)) << "no line-table row for line " << line << "\n" << result.out;
}

INSTANTIATE_TEST_SUITE_P(DebugModes, ReadelfSymfile, ::testing::Values("mini", "full"),
                         [](const ::testing::TestParamInfo<const char*>& info) { return std::string(info.param); });

}  // namespace
}  // namespace jitscope::integration
