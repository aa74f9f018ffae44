#include "debuginfo/descriptor_locator.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "debuginfo/elf_symbol_lookup.h"
#include "debuginfo/elf_writer.h"
#include "harness/temp_dir.h"
#include "jitscope/jit_debug.h"

namespace jitscope {
namespace {

std::string SelfExe() {
  char path[4096];
  ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
  return n > 0 ? std::string(path, n) : "";
}

TEST(ElfSymbolLookupTest, FindsTheDescriptorInThisBinary) {
  Result<ElfSymbolLookup> lookup = LookupElfSymbol(SelfExe(), kJitDescriptorSymbol);
  ASSERT_TRUE(lookup.ok()) << lookup.error();
  EXPECT_TRUE(lookup->found);
  EXPECT_EQ(lookup->size, sizeof(jit_descriptor));
}

TEST(ElfSymbolLookupTest, AbsentSymbolAndNonElfFiles) {
  Result<ElfSymbolLookup> lookup = LookupElfSymbol(SelfExe(), "no_such_symbol_anywhere");
  ASSERT_TRUE(lookup.ok()) << lookup.error();
  EXPECT_FALSE(lookup->found);

  testing::TempDir dir;
  std::ofstream(dir.File("text")) << "not an ELF file at all";
  lookup = LookupElfSymbol(dir.File("text"), kJitDescriptorSymbol);
  ASSERT_TRUE(lookup.ok()) << lookup.error();
  EXPECT_FALSE(lookup->found);

  std::ofstream(dir.File("truncated")) << "\x7f" "ELF";
  lookup = LookupElfSymbol(dir.File("truncated"), kJitDescriptorSymbol);
  EXPECT_FALSE(lookup.ok() && lookup->found);
}

TEST(ElfSymbolLookupTest, MissingFileNamesThePath) {
  Result<ElfSymbolLookup> lookup = LookupElfSymbol("/nonexistent/lib.so", kJitDescriptorSymbol);
  ASSERT_FALSE(lookup.ok());
  EXPECT_NE(lookup.error().find("/nonexistent/lib.so"), std::string::npos) << lookup.error();
}

TEST(DescriptorLocatorTest, LocatesOwnDescriptorWithLoadBias) {
  DescriptorLocator locator;
  Result<std::vector<DescriptorLocation>> found = locator.Locate(getpid());
  ASSERT_TRUE(found.ok()) << found.error();
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].address, reinterpret_cast<uint64_t>(&__jit_debug_descriptor));
  EXPECT_EQ((*found)[0].module_path, SelfExe());
  // Cached lookups give the same answer.
  found = locator.Locate(getpid());
  ASSERT_TRUE(found.ok()) << found.error();
  EXPECT_EQ((*found)[0].address, reinterpret_cast<uint64_t>(&__jit_debug_descriptor));
}

TEST(DescriptorLocatorTest, OtherSymbolsAreNotFound) {
  DescriptorLocator locator;
  Result<std::vector<DescriptorLocation>> found = locator.Locate(getpid(), "__dex_debug_descriptor");
  ASSERT_TRUE(found.ok()) << found.error();
  EXPECT_TRUE(found->empty());
}

// A stripped file whose symbols live only in an xz-compressed .gnu_debugdata
// (MiniDebugInfo): the symbol is found in the inner .symtab. Our own writer
// makes such a file.
TEST(ElfSymbolLookup, FindsSymbolsInsideGnuDebugdata) {
  CodeInfo code;
  code.address = 0x7f0000001000;
  code.size = 64;
  code.name = "only_in_debugdata";
  code.frame.rows.push_back(FrameRow{});
  ElfWriterOptions opts;
  std::vector<uint8_t> bytes = WriteCompressedDebugInfo({&code}, opts);
  ASSERT_FALSE(bytes.empty());
  testing::TempDir dir;
  std::string path = dir.File("minidebuginfo.elf");
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                              static_cast<std::streamsize>(bytes.size()));
  Result<ElfSymbolLookup> found = LookupElfSymbol(path, "only_in_debugdata");
  ASSERT_TRUE(found.ok()) << found.error();
  EXPECT_TRUE(found->found);
  EXPECT_EQ(found->value, code.address);
  EXPECT_EQ(found->size, code.size);
  Result<ElfSymbolLookup> missing = LookupElfSymbol(path, "not_there");
  ASSERT_TRUE(missing.ok()) << missing.error();
  EXPECT_FALSE(missing->found);
}

}  // namespace
}  // namespace jitscope
