#include "perf_integration/jitdump_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "harness/temp_dir.h"
#include "jitdump_reader.h"

namespace jitscope::perf {
namespace {

using perf_test::Jitdump;

// A function shaped like jitvm's: push rbp; mov rbp,rsp; ...; pop rbp; ret.
CodeInfo MakeCode(uint64_t address, uint32_t size, const std::string& name, std::vector<uint8_t>* bytes) {
  CodeInfo c;
  c.address = address;
  c.size = size;
  c.name = name;
  c.source = "fib.lua";
  c.first_line = 3;
  bytes->assign(size, 0x90);
  (*bytes)[0] = static_cast<uint8_t>(address);  // distinct bytes per function
  c.code_bytes = bytes->data();
  FrameRow entry;
  entry.code_offset = 0;
  FrameRow pushed = entry;
  pushed.code_offset = 1;
  pushed.cfa_offset = 16;
  pushed.saved_offset[kDwRbp] = -16;
  FrameRow framed = pushed;
  framed.code_offset = 4;
  framed.cfa_reg = kDwRbp;
  FrameRow after = entry;
  after.code_offset = size - 1;
  c.frame.rows = {entry, pushed, framed, after};
  c.frame.uses_frame_pointer = true;
  c.lines = {{0, 3, 0}, {8, 4, 1}, {20, 4, 2}, {24, 5, 3}};
  return c;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(JitdumpWriter, HeaderLoadsAndCloseAsPerfReadsThem) {
  testing::TempDir dir;
  std::string error;
  auto w = JitdumpWriter::Create(dir.path(), &error);
  ASSERT_TRUE(w) << error;
  EXPECT_EQ(w->path(), dir.path() + "/jit-" + std::to_string(getpid()) + ".dump");
  std::vector<uint8_t> bytes;
  CodeInfo code = MakeCode(0x7f0000001000, 64, "fib@fib.lua:3", &bytes);
  ASSERT_TRUE(w->WriteLoad(code, {}, &error)) << error;
  ASSERT_TRUE(w->Close());
  std::optional<Jitdump> dump = perf_test::ParseJitdump(ReadAll(w->path()), &error);
  ASSERT_TRUE(dump) << error;
  EXPECT_EQ(dump->header.magic, perf_test::kJitdumpMagic);
  EXPECT_EQ(dump->header.version, 1u);
  EXPECT_EQ(dump->header.elf_mach, 62u);
  EXPECT_EQ(dump->header.pid, static_cast<uint32_t>(getpid()));
  ASSERT_EQ(dump->records.size(), 4u);
  EXPECT_EQ(dump->records[0].id, perf_test::kJitCodeDebugInfo);
  EXPECT_EQ(dump->records[1].id, perf_test::kJitCodeUnwindingInfo);
  EXPECT_EQ(dump->records[2].id, perf_test::kJitCodeLoad);
  EXPECT_EQ(dump->records[3].id, perf_test::kJitCodeClose);
  const auto& load = dump->records[2].load;
  EXPECT_EQ(load.code_addr, code.address);
  EXPECT_EQ(load.vma, code.address);
  EXPECT_EQ(load.code_size, 64u);
  EXPECT_EQ(load.name, "fib@fib.lua:3");
  EXPECT_EQ(load.code, std::string(bytes.begin(), bytes.end()));
  // Lines 3, 4, 5 at their first offsets, and the last line again at the last
  // byte so that perf's line program covers it.
  const auto& entries = dump->records[0].debug_info.entries;
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries[0].addr, code.address);
  EXPECT_EQ(entries[0].line, 3u);
  EXPECT_EQ(entries[1].addr, code.address + 8);
  EXPECT_EQ(entries[1].line, 4u);
  EXPECT_EQ(entries[2].addr, code.address + 24);
  EXPECT_EQ(entries[2].line, 5u);
  EXPECT_EQ(entries[3].addr, code.address + 63);
  EXPECT_EQ(entries[3].line, 5u);
  EXPECT_EQ(entries[0].name, "fib.lua");
  // The tail the JIT must leave free is what perf inject maps after the code.
  const auto& unwind = dump->records[1].unwinding;
  EXPECT_GT(unwind.eh_frame_hdr_size, 0u);
  EXPECT_EQ(unwind.mapped_size, unwind.unwinding_size);
  EXPECT_EQ(JitdumpWriter::ReservedTailBytes(code.frame, code.size), unwind.mapped_size);  // 64 is 8-aligned
  EXPECT_EQ(JitdumpWriter::ReservedTailBytes(code.frame, 61), unwind.mapped_size + 3);
  EXPECT_EQ(JitdumpWriter::ReservedTailBytes({}, 61), 0u);  // no frame: no unwinding info
  // Closed: later loads are refused, not appended after CODE_CLOSE.
  EXPECT_FALSE(w->WriteLoad(code, {}, &error));
}

TEST(JitdumpWriter, ExplicitPidTidAndTimestampsStayInOrder) {
  testing::TempDir dir;
  std::string error;
  auto w = JitdumpWriter::CreateAt(dir.path() + "/jit-1.dump", /*map_marker=*/false, &error, /*header_pid=*/4242);
  ASSERT_TRUE(w) << error;
  std::vector<uint8_t> a, b;
  CodeInfo ca = MakeCode(0x1000, 32, "a", &a), cb = MakeCode(0x2000, 32, "b", &b);
  JitdumpWriter::LoadOptions o;
  o.pid = 4242;
  o.tid = 4243;
  o.timestamp_ns = 500;
  o.debug_info = false;
  o.unwinding_info = false;
  ASSERT_TRUE(w->WriteLoad(ca, o, &error)) << error;
  o.timestamp_ns = 100;  // earlier than the last record: clamped, never out of order
  ASSERT_TRUE(w->WriteLoad(cb, o, &error)) << error;
  ASSERT_TRUE(w->Close(50));
  std::optional<Jitdump> dump = perf_test::ReadJitdump(w->path(), &error);
  ASSERT_TRUE(dump) << error;
  EXPECT_EQ(dump->header.pid, 4242u);
  ASSERT_EQ(dump->records.size(), 3u);
  EXPECT_EQ(dump->records[0].load.pid, 4242u);
  EXPECT_EQ(dump->records[0].load.tid, 4243u);
  EXPECT_EQ(dump->records[0].timestamp, 500u);
  EXPECT_EQ(dump->records[1].timestamp, 500u);
  EXPECT_EQ(dump->records[2].timestamp, 500u);
  EXPECT_EQ(dump->records[0].load.code_index, 0u);
  EXPECT_EQ(dump->records[1].load.code_index, 1u);
}

// The lock makes each load's records one unit: with eight threads loading at
// once, every CODE_LOAD is still preceded by its own DEBUG_INFO and
// UNWINDING_INFO, indices are unique and time never goes backwards.
TEST(JitdumpWriter, ConcurrentLoadsNeverInterleave) {
  testing::TempDir dir;
  std::string error;
  auto w = JitdumpWriter::Create(dir.path(), &error);
  ASSERT_TRUE(w) << error;
  constexpr int kThreads = 8, kPerThread = 300;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; i++) {
        std::vector<uint8_t> bytes;
        uint64_t addr = 0x7f0000000000 + (static_cast<uint64_t>(t) << 24) + static_cast<uint64_t>(i) * 0x400;
        CodeInfo c = MakeCode(addr, 48 + static_cast<uint32_t>(i % 5) * 8, "f" + std::to_string(t) + "_" +
                                                                              std::to_string(i), &bytes);
        std::string e;
        if (!w->WriteLoad(c, {}, &e)) failures++;
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(failures.load(), 0);
  ASSERT_TRUE(w->Close());
  std::optional<Jitdump> dump = perf_test::ReadJitdump(w->path(), &error);
  ASSERT_TRUE(dump) << error;
  ASSERT_EQ(dump->records.size(), static_cast<size_t>(kThreads * kPerThread * 3 + 1));
  std::set<uint64_t> indices;
  uint64_t last_ts = 0;
  for (size_t i = 0; i + 1 < dump->records.size(); i += 3) {
    const auto& d = dump->records[i];
    const auto& u = dump->records[i + 1];
    const auto& l = dump->records[i + 2];
    ASSERT_EQ(d.id, perf_test::kJitCodeDebugInfo) << "record " << i;
    ASSERT_EQ(u.id, perf_test::kJitCodeUnwindingInfo) << "record " << i + 1;
    ASSERT_EQ(l.id, perf_test::kJitCodeLoad) << "record " << i + 2;
    EXPECT_EQ(d.debug_info.code_addr, l.load.code_addr);
    EXPECT_EQ(d.timestamp, l.timestamp);
    EXPECT_GE(l.timestamp, last_ts);
    last_ts = l.timestamp;
    EXPECT_TRUE(indices.insert(l.load.code_index).second);
  }
  EXPECT_EQ(dump->records.back().id, perf_test::kJitCodeClose);
  JitdumpStats s = w->stats();
  EXPECT_EQ(s.loads, static_cast<uint64_t>(kThreads * kPerThread));
  EXPECT_EQ(s.bytes, ReadAll(w->path()).size());
}

TEST(JitdumpWriter, MissingDirectoryIsAClearError) {
  std::string error;
  auto w = JitdumpWriter::Create("/nonexistent/dir", &error);
  EXPECT_FALSE(w);
  EXPECT_NE(error.find("/nonexistent/dir/jit-"), std::string::npos) << error;
}

TEST(JitdumpWriter, CodeWithoutBytesIsRefused) {
  testing::TempDir dir;
  std::string error;
  auto w = JitdumpWriter::Create(dir.path(), &error);
  ASSERT_TRUE(w) << error;
  CodeInfo c;
  c.address = 0x1000;
  c.size = 16;
  c.name = "x";
  EXPECT_FALSE(w->WriteLoad(c, {}, &error));
  EXPECT_NE(error.find("0x1000"), std::string::npos) << error;
}

// perf record must see the dump mapped executable (and never writable).
TEST(JitdumpWriter, FileIsMappedExecutableWhileOpen) {
  testing::TempDir dir;
  std::string error;
  auto w = JitdumpWriter::Create(dir.path(), &error);
  ASSERT_TRUE(w) << error;
  std::string maps = ReadAll("/proc/self/maps");
  std::istringstream in(maps);
  std::string line;
  bool found = false;
  while (std::getline(in, line)) {
    if (line.find(w->path()) == std::string::npos) continue;
    found = true;
    std::istringstream fields(line);
    std::string range, perms;
    fields >> range >> perms;
    EXPECT_EQ(perms, "r-xp") << line;
  }
  EXPECT_TRUE(found) << maps;
}

}  // namespace
}  // namespace jitscope::perf
