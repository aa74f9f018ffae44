// The twin descriptor __jit_source_descriptor: a stopped jitvm publishes each
// loaded chunk (source text + every function's compiled name and line range),
// and an outside reader gets the source without the file.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "debuginfo/source_blob.h"
#include "harness/tool_runner.h"
#include "jit_symfiles.h"
#include "jitvm_under_test.h"

namespace jitscope::integration {
namespace {

TEST(SourceDescriptor, PublishesEachLoadedChunkWithItsFunctions) {
  std::string error;
  auto vm = StoppedJitvm::Start({"--jit-threshold=0", "--test-builtins"}, "fib.lua", &error);
  ASSERT_NE(vm, nullptr) << error;
  auto result = testing::RunTool(
      {JitscopePath(), "descriptor", std::to_string(vm->pid()), "--json", "--symbol", "__jit_source_descriptor"},
      kToolTimeout);
  ASSERT_EQ(result.exit_code, 0) << result.Describe();
  nlohmann::json json = nlohmann::json::parse(result.out);
  std::vector<SourceBlob> blobs;
  for (const auto& d : json.at("descriptors")) {
    for (const auto& e : d.at("entries")) {
      uint64_t addr = std::stoull(e.at("symfile_addr").get<std::string>(), nullptr, 0);
      uint64_t size = e.at("symfile_size").get<uint64_t>();
      std::string bytes;
      ASSERT_TRUE(ReadProcessMemory(vm->pid(), addr, size, &bytes, &error)) << error;
      SourceBlob blob;
      ASSERT_TRUE(DecodeSourceBlob(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &blob, &error))
          << error;
      blobs.push_back(blob);
    }
  }
  ASSERT_EQ(blobs.size(), 1u) << result.out;
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

}  // namespace
}  // namespace jitscope::integration
