// W^X as the kernel sees it: while a VM with hundreds of compiled functions
// is stopped, /proc/PID/maps shows no mapping both writable and executable,
// the code runs from the read-execute view of the "jit-cache" memfd, and
// every registered function's code lies in that view.
#include <gtest/gtest.h>

#include <sstream>

#include "harness/paths.h"
#include "jit_symfiles.h"
#include "jitvm_under_test.h"

namespace jitscope::integration {
namespace {

constexpr char kCodeMapping[] = "/memfd:jit-cache (deleted)";
constexpr char kDataMapping[] = "/memfd:jit-data (deleted)";
// many_functions.lua compiles this many functions (one chunk each) plus its main chunk.
constexpr size_t kGeneratedFunctions = 300;

std::string Hex(uint64_t value) {
  std::ostringstream text;
  text << "0x" << std::hex << value;
  return text.str();
}

std::string FormatMaps(const std::vector<Mapping>& maps) {
  std::string text;
  for (const Mapping& mapping : maps) text += mapping.line + "\n";
  return text;
}

struct CacheSize {
  const char* name;
  std::vector<std::string> flags;
};

void PrintTo(const CacheSize& size, std::ostream* out) { *out << size.name; }

class MapsWx : public ::testing::TestWithParam<CacheSize> {
 protected:
  void SetUp() override {
    std::string error;
    // Uncompressed groups: these tests read symbols straight from .symtab
    // (compressed groups are covered by tests/integration_modes).
    std::vector<std::string> flags = {"--jit-threshold=0", "--test-builtins", "--jit-debug-compress=off"};
    flags.insert(flags.end(), GetParam().flags.begin(), GetParam().flags.end());
    vm_ = StoppedJitvm::Start(flags, "many_functions.lua", &error);
    ASSERT_NE(vm_, nullptr) << error;
    ASSERT_TRUE(ReadMaps(vm_->pid(), &maps_, &error)) << error;
    ASSERT_TRUE(ReadJitEntries(vm_->pid(), &entries_, &error)) << error;
  }

  std::unique_ptr<StoppedJitvm> vm_;
  std::vector<Mapping> maps_;
  std::vector<JitEntry> entries_;
};

TEST_P(MapsWx, NoMappingIsWritableAndExecutable) {
  for (const Mapping& mapping : maps_) {
    EXPECT_FALSE(mapping.writable() && mapping.executable()) << "W+X mapping: " << mapping.line;
  }
  bool code_view = false;
  bool write_view = false;
  for (const Mapping& mapping : maps_) {
    if (mapping.name != kCodeMapping) continue;
    if (mapping.perms.starts_with("r-x")) code_view = true;
    if (mapping.perms.starts_with("rw-")) write_view = true;
  }
  EXPECT_TRUE(code_view) << "no r-x mapping named " << kCodeMapping << "\n" << FormatMaps(maps_);
  EXPECT_TRUE(write_view) << "no rw- view of " << kCodeMapping << " (the JIT's write side)\n" << FormatMaps(maps_);
}

TEST_P(MapsWx, EveryRegisteredFunctionLiesInTheExecutableCodeView) {
  ASSERT_FALSE(entries_.empty()) << vm_->Describe();
  size_t functions = 0;
  bool main_found = false;
  for (const JitEntry& entry : entries_) {
    std::string bytes, error;
    SymbolFile symfile;
    ASSERT_TRUE(ReadProcessMemory(vm_->pid(), entry.symfile_addr, entry.symfile_size, &bytes, &error)) << error;
    ASSERT_TRUE(ParseSymbolFile(bytes, &symfile, &error)) << "symfile at " << Hex(entry.symfile_addr) << ": " << error;
    for (const ElfSymbol& symbol : symfile.functions) {
      functions++;
      main_found = main_found || symbol.name == "main@many_functions.lua:0";
      const Mapping* mapping = FindMapping(maps_, symbol.value, symbol.size);
      ASSERT_NE(mapping, nullptr) << symbol.name << " at " << Hex(symbol.value) << " size " << symbol.size
                                  << " is not inside one mapping\n" << FormatMaps(maps_);
      EXPECT_EQ(mapping->name, kCodeMapping) << symbol.name << ": " << mapping->line;
      EXPECT_TRUE(mapping->executable() && !mapping->writable()) << symbol.name << ": " << mapping->line;
    }
  }
  EXPECT_TRUE(main_found) << "the main chunk (on the stack) has no symbol";
  // With a small cache, evicted code may already have lost its symbols.
  if (GetParam().flags.empty()) {
    EXPECT_GE(functions, kGeneratedFunctions + 1);
  }
}

// Issue 5: "Entries and symbol files live in the JIT data region", a
// mapping that is never executable.
// Every [addr, addr + size) of `ranges` not inside one mapping named kDataMapping,
// as text for a message (at most a few, then a count).
std::string OutsideJitData(const std::vector<Mapping>& maps, const std::vector<std::pair<uint64_t, uint64_t>>& ranges,
                           const std::string& what) {
  constexpr size_t kShown = 3;
  std::string text;
  size_t outside = 0;
  for (const auto& [addr, size] : ranges) {
    const Mapping* mapping = FindMapping(maps, addr, size);
    if (mapping != nullptr && mapping->name == kDataMapping && !mapping->executable()) continue;
    if (++outside <= kShown) {
      text += what + " at " + Hex(addr) + " (" + std::to_string(size) + " bytes) is in: " +
              (mapping != nullptr ? mapping->line : "(no single mapping)") + "\n";
    }
  }
  if (outside == 0) return "";
  return std::to_string(outside) + " of " + std::to_string(ranges.size()) + " outside " + kDataMapping + ":\n" + text;
}

// Issue 5: "Entries and symbol files live in the JIT data region" (the
// "jit-data" memfd, never executable).
TEST_P(MapsWx, SymbolFilesLiveInTheJitDataRegion) {
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (const JitEntry& entry : entries_) ranges.emplace_back(entry.symfile_addr, entry.symfile_size);
  EXPECT_EQ(OutsideJitData(maps_, ranges, "symfile"), "") << FormatMaps(maps_);
}

TEST_P(MapsWx, DescriptorEntriesLiveInTheJitDataRegion) {
  constexpr uint64_t kEntrySize = 48;  // the Android2 jit_code_entry
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (const JitEntry& entry : entries_) ranges.emplace_back(entry.address, kEntrySize);
  EXPECT_EQ(OutsideJitData(maps_, ranges, "jit_code_entry"), "") << FormatMaps(maps_);
}

INSTANTIATE_TEST_SUITE_P(CacheSizes, MapsWx,
                         ::testing::Values(CacheSize{"default", {}},
                                           // Small enough to evict and reuse code addresses.
                                           CacheSize{"tiny", {"--jit-cache-size=65536"}}),
                         [](const ::testing::TestParamInfo<CacheSize>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace jitscope::integration
