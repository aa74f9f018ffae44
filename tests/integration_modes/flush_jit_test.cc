// vmtest.flush_jit() frees the code of every function without a frame on
// the stack; the debug info must follow: at the next stop gdb's
// `info symbol` finds nothing at a freed function's address (whether its
// symbol was in a single-function file or in a packed group that had to be
// rebuilt without it) and still finds the functions on the stack, whose
// backtrace stays correct. In every debug-info layout.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <sstream>

#include "harness/paths.h"
#include "modes_jitvm.h"
#include "registered_symfiles.h"

namespace jitscope::integration {
namespace {

// A few of each kind are enough and keep gdb's command line short.
constexpr size_t kFreedSamplesPerKind = 3;

std::string Hex(uint64_t value) {
  std::ostringstream text;
  text << "0x" << std::hex << value;
  return text.str();
}

// gdb's answer to `info symbol ADDR` for each address, split at the echo
// markers AttachGdb was given.
std::map<uint64_t, std::string> InfoSymbolAnswers(const std::string& output, const std::vector<uint64_t>& addrs) {
  std::map<uint64_t, std::string> answers;
  for (uint64_t addr : addrs) {
    std::string marker = "@@info-symbol " + Hex(addr) + "\n";
    size_t start = output.find(marker);
    if (start == std::string::npos) continue;
    start += marker.size();
    size_t end = output.find("@@", start);
    answers[addr] = output.substr(start, end == std::string::npos ? std::string::npos : end - start);
  }
  return answers;
}

class FlushJit : public ::testing::TestWithParam<DebugMode> {};

TEST_P(FlushJit, FreedFunctionsLoseTheirSymbolsAndKeptOnesKeepThem) {
  JITSCOPE_REQUIRE_TOOL(gdb, "gdb");
  std::vector<std::string> flags = {"--jit-threshold=0", "--test-builtins"};
  flags.insert(flags.end(), GetParam().flags.begin(), GetParam().flags.end());
  std::string error;
  std::unique_ptr<StoppingJitvm> vm = StoppingJitvm::Start(flags, "flush.lua", &error);
  ASSERT_NE(vm, nullptr) << error;

  std::vector<std::string> kept_names = {LuaFunctionName("flush.lua", "keep_inner"),
                                         LuaFunctionName("flush.lua", "keep_outer"), "main@flush.lua:0"};
  std::vector<RegisteredSymfile> before;
  ASSERT_TRUE(ReadRegisteredSymfiles(vm->pid(), &before, &error)) << error;
  std::map<std::string, uint64_t> kept;  // name -> address
  std::vector<ElfSymbol> freed;
  size_t freed_single = 0;
  size_t freed_grouped = 0;
  for (const RegisteredSymfile& file : before) {
    bool group = file.AllFunctions().size() > 1;
    for (const ElfSymbol& symbol : file.AllFunctions()) {
      bool keep = std::find(kept_names.begin(), kept_names.end(), symbol.name) != kept_names.end();
      if (keep) {
        kept[symbol.name] = symbol.value;
      } else if (group ? freed_grouped++ < kFreedSamplesPerKind : freed_single++ < kFreedSamplesPerKind) {
        freed.push_back(symbol);
      }
    }
  }
  ASSERT_EQ(kept.size(), kept_names.size()) << DescribeSymfiles(before);
  ASSERT_FALSE(freed.empty()) << DescribeSymfiles(before);
  if (GetParam().layout != DebugLayout::kUnpacked) {
    // The interesting case: a group holding both kinds must be rebuilt.
    const RegisteredSymfile* group = DefiningFile(before, kept_names[0]);
    ASSERT_GT(group->AllFunctions().size(), kept_names.size()) << DescribeSymfiles(before);
  }

  ASSERT_TRUE(vm->ContinueToNextStop(&error)) << error;
  std::vector<RegisteredSymfile> after;
  ASSERT_TRUE(ReadRegisteredSymfiles(vm->pid(), &after, &error)) << error;
  for (const ElfSymbol& symbol : freed) {
    EXPECT_EQ(DefiningFile(after, symbol.name), nullptr) << symbol.name << " is still registered after flush_jit\n"
                                                         << DescribeSymfiles(after);
  }
  for (const auto& [name, addr] : kept) {
    EXPECT_NE(DefiningFile(after, name), nullptr) << name << " is no longer registered\n" << DescribeSymfiles(after);
  }

  std::vector<uint64_t> addrs;
  std::vector<std::string> commands = {"thread apply all bt"};
  auto query = [&](uint64_t addr) {
    addrs.push_back(addr);
    commands.push_back("echo @@info-symbol " + Hex(addr) + "\\n");
    commands.push_back("info symbol " + Hex(addr));
  };
  for (const ElfSymbol& symbol : freed) query(symbol.value);
  for (const auto& [name, addr] : kept) query(addr);
  commands.push_back("echo @@end\\n");
  testing::ToolResult result = AttachGdb(gdb, vm->pid(), commands);
  if (PtraceDenied(result)) GTEST_SKIP() << "this machine does not permit ptrace";
  ASSERT_FALSE(result.timed_out) << result.Describe();

  std::map<uint64_t, std::string> answers = InfoSymbolAnswers(result.out + result.err, addrs);
  for (const ElfSymbol& symbol : freed) {
    EXPECT_NE(answers[symbol.value].find("No symbol matches"), std::string::npos)
        << "freed " << symbol.name << " at " << Hex(symbol.value) << ": gdb says '" << answers[symbol.value]
        << "'\n--- before ---\n" << DescribeSymfiles(before) << "--- after ---\n" << DescribeSymfiles(after);
  }
  for (const auto& [name, addr] : kept) {
    EXPECT_NE(answers[addr].find(name), std::string::npos)
        << "kept " << name << " at " << Hex(addr) << ": gdb says '" << answers[addr] << "'\n"
        << result.Describe();
  }

  std::vector<DebuggerFrame> frames = ThreadWithFrame(result.out, "vmtest_stop_here");
  ASSERT_FALSE(frames.empty()) << result.Describe();
  EXPECT_EQ(JitFrameNames(frames), CompiledFrameNames(vm->ground_truth())) << FormatFrames(frames);
  EXPECT_EQ(IncompleteUnwindReason(frames), "") << FormatFrames(frames);
}

INSTANTIATE_TEST_SUITE_P(Modes, FlushJit, ::testing::ValuesIn(AllDebugModes()),
                         [](const ::testing::TestParamInfo<DebugMode>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace jitscope::integration
