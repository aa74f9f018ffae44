// The tombstone file format: write/read round trip, and a reader that
// refuses garbage, truncated and corrupt files with one line naming the
// file (`jitscope tombstone` exits 1 and never crashes).
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "harness/paths.h"
#include "harness/temp_dir.h"
#include "harness/tool_runner.h"
#include "unwinder/tombstone.h"

namespace jitscope {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;

Tombstone SampleTombstone() {
  Tombstone t;
  t.pid = 42;
  t.tid = 43;
  t.comm = "jitvm";
  t.cmdline = "jitvm crash.lua";
  t.signal = SIGSEGV;
  t.si_code = SEGV_MAPERR;
  t.fault_address = 0x10;
  t.signal_time_ns = 1000;
  t.dump_time_ns = 3000;
  TombstoneThread th;
  th.tid = 43;
  th.name = "jitvm";
  th.crashed = true;
  th.regs.rip = 0x7f0000001010;
  th.regs.rsp = 0x7ffd00000100;
  th.regs.rbp = 0x7ffd00000110;
  th.frames = {{0x7f0000001010, 0x7ffd00000100, "registers", 0}, {0x7f0000002020, 0x7ffd00000120, "frame-pointer", 0}};
  t.threads.push_back(th);
  MapEntry code;
  code.start = 0x7f0000000000;
  code.end = 0x7f0000010000;
  code.readable = code.executable = true;
  code.path = "/memfd:jit-cache";
  t.maps.push_back(code);
  // A stack whose frame record leads to the second frame.
  std::vector<uint8_t> stack(0x40);
  uint64_t saved_rbp = 0, ret = 0x7f0000002020;
  memcpy(stack.data() + 0x10, &saved_rbp, 8);
  memcpy(stack.data() + 0x18, &ret, 8);
  t.memory.push_back({0x7ffd00000100, "stack of 43", stack});
  t.jit_ranges = {{0x7f0000001000, 0x7f0000001100, "inner@x.lua:1"}, {0x7f0000002000, 0x7f0000002100, "outer@x.lua:5"}};
  t.minimal = true;
  t.minimal_reason = "test";
  return t;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteAllTo(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

TEST(TombstoneFile, RoundTrips) {
  TempDir dir;
  Tombstone t = SampleTombstone();
  ASSERT_TRUE(WriteTombstone(t, dir.File("t")).ok());
  EXPECT_FALSE(std::filesystem::exists(dir.File("t.tmp." + std::to_string(getpid()))));
  Result<Tombstone> back = ReadTombstone(dir.File("t"));
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->pid, 42);
  EXPECT_EQ(back->signal, SIGSEGV);
  EXPECT_EQ(back->fault_address, 0x10u);
  ASSERT_EQ(back->threads.size(), 1u);
  EXPECT_EQ(back->threads[0].regs.rip, 0x7f0000001010u);
  EXPECT_EQ(back->threads[0].frames.size(), 2u);
  ASSERT_EQ(back->memory.size(), 1u);
  EXPECT_EQ(back->memory[0].bytes.size(), 0x40u);
  ASSERT_EQ(back->jit_ranges.size(), 2u);
  EXPECT_NE(back->text.find("[jit] inner@x.lua:1+0x10"), std::string::npos) << back->text;
  EXPECT_NE(back->text.find("[jit] outer@x.lua:5+0x20"), std::string::npos) << back->text;
}

TEST(TombstoneFile, AddressSpaceMergesOverlappingCaptures) {
  Tombstone t;
  t.memory.push_back({0x1000, "a", std::vector<uint8_t>(0x100, 1)});
  t.memory.push_back({0x1080, "b", std::vector<uint8_t>(0x100, 2)});
  t.memory.push_back({0x3000, "c", std::vector<uint8_t>(0x10, 3)});
  std::unique_ptr<SnapshotMemory> space = TombstoneAddressSpace(t);
  ASSERT_EQ(space->regions().size(), 2u);
  uint8_t b = 0;
  ASSERT_TRUE(space->ReadFully(0x1170, &b, 1));
  EXPECT_EQ(b, 2);
  ASSERT_TRUE(space->ReadFully(0x1010, &b, 1));
  EXPECT_EQ(b, 1);
}

TEST(TombstoneFile, FramePointerWalkIsBounded) {
  // A cyclic frame chain (rbp points at itself) ends the walk.
  std::vector<uint8_t> stack(0x100);
  uint64_t self = 0x2000, ret = 0x4444;
  memcpy(stack.data(), &self, 8);
  memcpy(stack.data() + 8, &ret, 8);
  BufferMemory memory(0x2000, stack);
  Registers regs{};
  regs.rip = 0x1234;
  regs.rsp = 0x2000;
  regs.rbp = 0x2000;
  std::vector<TombstoneFrame> frames = FramePointerWalk(memory, regs, 256);
  EXPECT_LE(frames.size(), 3u);
}

TEST(TombstoneFile, RefusesGarbageTruncationAndCorruption) {
  TempDir dir;
  ASSERT_TRUE(WriteTombstone(SampleTombstone(), dir.File("good")).ok());
  std::string good = ReadAll(dir.File("good"));

  std::mt19937 rng(7);
  std::string garbage(4096, '\0');
  for (char& c : garbage) c = static_cast<char>(rng());
  WriteAllTo(dir.File("garbage"), garbage);
  Result<Tombstone> r = ReadTombstone(dir.File("garbage"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("not a jitscope tombstone"), std::string::npos) << r.error();

  for (size_t cut : {size_t{0}, size_t{5}, size_t{40}, kTombstoneHeaderSize, good.size() / 2, good.size() - 1}) {
    WriteAllTo(dir.File("cut"), good.substr(0, cut));
    Result<Tombstone> c = ReadTombstone(dir.File("cut"));
    ASSERT_FALSE(c.ok()) << "cut at " << cut;
    EXPECT_NE(c.error().find(dir.File("cut")), std::string::npos) << c.error();
    EXPECT_EQ(c.error().find('\n'), std::string::npos) << c.error();
  }
  // Every single-byte corruption of the JSON is either still a valid
  // tombstone or a clean error: never a crash or an exception.
  size_t json_start = good.find("--- machine-readable part (JSON) follows ---\n");
  ASSERT_NE(json_start, std::string::npos);
  for (size_t i = json_start + 46; i < good.size(); i += 7) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x5a);
    WriteAllTo(dir.File("bad"), bad);
    Result<Tombstone> c = ReadTombstone(dir.File("bad"));
    if (!c.ok()) {
      EXPECT_EQ(c.error().find('\n'), std::string::npos) << c.error();
    }
  }
  // A newer version is refused by name.
  std::string newer = good;
  newer[10] = '9';
  WriteAllTo(dir.File("newer"), newer);
  Result<Tombstone> v = ReadTombstone(dir.File("newer"));
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().find("version 9"), std::string::npos) << v.error();
}

TEST(TombstoneCommand, GarbageAndTruncatedFilesGiveOneLineAndExitOne) {
  TempDir dir;
  ASSERT_TRUE(WriteTombstone(SampleTombstone(), dir.File("good")).ok());
  std::string good = ReadAll(dir.File("good"));
  WriteAllTo(dir.File("garbage"), std::string(1000, 'x'));
  WriteAllTo(dir.File("truncated"), good.substr(0, good.size() - 10));
  WriteAllTo(dir.File("empty"), "");
  for (const char* name : {"garbage", "truncated", "empty", "missing"}) {
    testing::ToolResult r = testing::RunTool({testing::BinPath("jitscope"), "tombstone", dir.File(name)}, 30s);
    EXPECT_EQ(r.exit_code, 1) << name << ": " << r.Describe();
    EXPECT_TRUE(r.out.empty()) << r.out;
    ASSERT_FALSE(r.err.empty()) << name;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "one line: " << r.err;
    EXPECT_EQ(r.err.rfind("jitscope tombstone: ", 0), 0u) << r.err;
  }
  testing::ToolResult ok = testing::RunTool({testing::BinPath("jitscope"), "tombstone", dir.File("good")}, 30s);
  EXPECT_EQ(ok.exit_code, 0) << ok.Describe();
  EXPECT_NE(ok.out.find("[jit] outer@x.lua:5"), std::string::npos) << ok.out;
}

}  // namespace
}  // namespace jitscope
