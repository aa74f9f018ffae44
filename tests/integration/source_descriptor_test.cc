// The twin descriptor __jit_source_descriptor: a stopped jitvm publishes each
// loaded chunk (source text + every function's compiled name and line range),
// and an outside reader gets the source without the file.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <map>

#include <nlohmann/json.hpp>

#include "debuginfo/snapshot_file.h"
#include "debuginfo/source_blob.h"
#include "harness/tool_runner.h"
#include "jit_symfiles.h"
#include "jitvm_under_test.h"

namespace jitscope::integration {
namespace {

// The raw bytes of every entry of the stopped VM's source descriptor, as
// `jitscope descriptor` lists them (addresses) and the memory holds them.
std::vector<std::string> RawSourceBlobs(pid_t pid) {
  std::vector<std::string> out;
  auto result = testing::RunTool(
      {JitscopePath(), "descriptor", std::to_string(pid), "--json", "--symbol", "__jit_source_descriptor"},
      kToolTimeout);
  EXPECT_EQ(result.exit_code, 0) << result.Describe();
  if (result.exit_code != 0) return out;
  nlohmann::json json = nlohmann::json::parse(result.out);
  for (const auto& d : json.at("descriptors"))
    for (const auto& e : d.at("entries")) {
      uint64_t addr = std::stoull(e.at("symfile_addr").get<std::string>(), nullptr, 0);
      uint64_t size = e.at("symfile_size").get<uint64_t>();
      std::string bytes, error;
      EXPECT_TRUE(ReadProcessMemory(pid, addr, size, &bytes, &error)) << error;
      out.push_back(std::move(bytes));
    }
  return out;
}

TEST(SourceDescriptor, PublishesEachLoadedChunkWithItsFunctions) {
  std::string error;
  auto vm = StoppedJitvm::Start({"--jit-threshold=0", "--test-builtins"}, "fib.lua", &error);
  ASSERT_NE(vm, nullptr) << error;
  std::vector<SourceBlob> blobs;
  for (const std::string& bytes : RawSourceBlobs(vm->pid())) {
    SourceBlob blob;
    ASSERT_TRUE(DecodeSourceBlob(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &blob, &error))
        << error;
    blobs.push_back(blob);
  }
  ASSERT_EQ(blobs.size(), 1u);
  const SourceBlob& b = blobs[0];
  EXPECT_NE(b.chunk_name.find("fib.lua"), std::string::npos) << b.chunk_name;
  EXPECT_EQ(b.text, ReadWholeFile(LuaScriptPath("fib.lua")));
  bool found_fib = false;
  for (const SourceFunction& f : b.functions) {
    if (f.name.rfind("fib@", 0) == 0) {
      found_fib = true;
      EXPECT_GT(f.last_line, f.first_line);
    }
  }
  EXPECT_TRUE(found_fib) << "no fib@ function in the blob";
}

// Chunks from loadstring: each has its blob with its text (copied: a blob
// that referred to the Lua string instead kept every source string alive in
// the Lua heap, and that made the interpreter slower, docs/performance.md),
// read live from the stopped VM and through jitscope's snapshot. Chunks
// collected before the stop (with or without their string) are gone.
TEST(SourceDescriptor, ChunksFromLuaStringsArePublishedUntilCollected) {
  std::string error;
  auto vm = StoppedJitvm::Start({"--jit-threshold=0", "--test-builtins"}, "loadstring_chunks.lua", &error);
  ASSERT_NE(vm, nullptr) << error;
  const std::string code = "local function twice(x)\n  return x * 2\nend\nreturn twice(21)\n";
  std::map<std::string, SourceBlob> live;
  for (const std::string& bytes : RawSourceBlobs(vm->pid())) {
    SourceBlob blob;
    ASSERT_TRUE(DecodeSourceBlob(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &blob, &error))
        << error;
    live[blob.chunk_name] = blob;
  }
  EXPECT_EQ(live["shared_code"].text, code);
  EXPECT_EQ(live["shared_code_again"].text, code);
  EXPECT_EQ(live.size(), 3u);  // and the script itself

  std::string path = ::testing::TempDir() + "/loadstring_chunks." + std::to_string(getpid()) + ".snap";
  auto snap = testing::RunTool({JitscopePath(), "snapshot", std::to_string(vm->pid()), "-o", path}, kToolTimeout);
  ASSERT_EQ(snap.exit_code, 0) << snap.Describe();
  Result<ProcessSnapshot> loaded = ReadSnapshotFile(path);
  unlink(path.c_str());
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  std::map<std::string, SourceBlob> blobs;
  for (const DescriptorView& d : loaded->sources.descriptors)
    for (const SnapshotEntry& e : d.entries) {
      ASSERT_TRUE(e.symfile) << e.problem;
      SourceBlob blob;
      ASSERT_TRUE(DecodeSourceBlob(e.symfile->data(), e.symfile->size(), &blob, &error)) << error;
      blobs[blob.chunk_name] = blob;
    }
  ASSERT_EQ(blobs.count("shared_code"), 1u);
  ASSERT_EQ(blobs.count("shared_code_again"), 1u);
  EXPECT_EQ(blobs["shared_code"].text, code);
  EXPECT_EQ(blobs["shared_code_again"].text, code);
  bool found_twice = false;
  for (const SourceFunction& f : blobs["shared_code"].functions)
    if (f.name.rfind("twice@", 0) == 0) found_twice = f.first_line == 1 && f.last_line == 3;
  EXPECT_TRUE(found_twice) << "no twice@ function with lines 1-3";
  EXPECT_EQ(blobs.count("gone_chunk"), 0u);
  EXPECT_EQ(blobs.count("dies_with_text"), 0u);
  EXPECT_EQ(blobs.size(), 3u);
}

}  // namespace
}  // namespace jitscope::integration
