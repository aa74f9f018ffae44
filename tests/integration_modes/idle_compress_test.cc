// The default compression policy beyond ART's: once no code has been loaded
// for --jit-debug-compress-idle milliseconds, every 64 KiB range but the
// newest is compressed, without a code GC; with the idle delay 0 (ART's
// policy alone) nothing is compressed in a program that frees no code.
// Either way every compiled function is defined by exactly one registered
// file, and gdb still unwinds through compiled code at the stop.
#include <gtest/gtest.h>

#include <map>

#include "modes_jitvm.h"
#include "registered_symfiles.h"

namespace jitscope::integration {
namespace {

struct Layout {
  size_t files = 0;
  size_t compressed = 0;
  std::map<std::string, int> definitions;  // function -> files defining it
};

Layout Inspect(const std::vector<RegisteredSymfile>& files) {
  Layout layout;
  for (const RegisteredSymfile& file : files) {
    layout.files++;
    if (file.compressed) layout.compressed++;
    for (const ElfSymbol& symbol : file.AllFunctions()) layout.definitions[symbol.name]++;
  }
  return layout;
}

std::unique_ptr<StoppingJitvm> RunToStop(const std::string& idle_ms, std::vector<RegisteredSymfile>* files,
                                         std::string* error) {
  std::vector<std::string> flags = {"--jit-threshold=0", "--test-builtins", "--jit-debug=mini",
                                    "--jit-debug-compress=on", "--jit-debug-compress-idle=" + idle_ms};
  std::unique_ptr<StoppingJitvm> vm = StoppingJitvm::Start(flags, "idle.lua", error);
  if (vm && !ReadRegisteredSymfiles(vm->pid(), files, error)) return nullptr;
  return vm;
}

void ExpectEveryFunctionOnce(const Layout& layout, const std::vector<RegisteredSymfile>& files) {
  // 300 chunks of two functions each, and the main chunk.
  EXPECT_EQ(layout.definitions.size(), 601u) << DescribeSymfiles(files);
  for (const auto& [name, count] : layout.definitions)
    EXPECT_EQ(count, 1) << name << " is defined by " << count << " files\n" << DescribeSymfiles(files);
}

TEST(IdleCompress, StableRangesAreCompressedOnceTheJitIsQuiet) {
  std::string error;
  std::vector<RegisteredSymfile> files;
  std::unique_ptr<StoppingJitvm> vm = RunToStop("100", &files, &error);
  ASSERT_NE(vm, nullptr) << error;
  Layout layout = Inspect(files);
  ExpectEveryFunctionOnce(layout, files);
  // ~1.2 KiB of code per chunk: the functions span several ranges, and all
  // but the newest (one packed group or a few single entries) are compressed.
  ASSERT_GE(layout.compressed, 2u) << DescribeSymfiles(files);
  EXPECT_LE(layout.files - layout.compressed, 1u + 63u) << DescribeSymfiles(files);
}

TEST(IdleCompress, ArtPolicyAloneCompressesNothingWithoutCodeGc) {
  std::string error;
  std::vector<RegisteredSymfile> files;
  std::unique_ptr<StoppingJitvm> vm = RunToStop("0", &files, &error);
  ASSERT_NE(vm, nullptr) << error;
  Layout layout = Inspect(files);
  ExpectEveryFunctionOnce(layout, files);
  EXPECT_EQ(layout.compressed, 0u) << DescribeSymfiles(files);
  EXPECT_GE(layout.files, 2u) << DescribeSymfiles(files);
}

}  // namespace
}  // namespace jitscope::integration
