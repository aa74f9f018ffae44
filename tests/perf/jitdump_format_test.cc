// jitvm --jitdump=DIR against the jitdump contract, read by our own strict
// reader (jitdump_reader.h) and compared with the VM's event log: header,
// record framing and order, CLOCK_MONOTONIC timestamps, DEBUG_INFO and
// UNWINDING_INFO right before each CODE_LOAD (perf inject attaches the most
// recent ones to the next load), unique code_index and code bytes (perf
// inject names each jitted-PID-N.so by a build-id of its bytes), CODE_CLOSE
// last, and mappings that never cover another live function's code (perf
// inject maps code plus unwinding data). Needs no perf: the file is the unit.
#include <gtest/gtest.h>
#include <time.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "harness/child_process.h"
#include "harness/temp_dir.h"
#include "jit_event_log.h"
#include "jitdump_reader.h"
#include "perf_runner.h"

namespace jitscope::perf_test {
namespace {

// Below this the script did not exercise the writer (it loads ~25 functions).
constexpr size_t kMinLoads = 10;
constexpr uint64_t kJitdumpFlagArchTimestamp = 1;  // timestamps would be TSC, not CLOCK_MONOTONIC

uint64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

std::string Hex(uint64_t v) {
  std::ostringstream text;
  text << "0x" << std::hex << v;
  return text.str();
}

uint64_t Align8(uint64_t v) { return (v + 7) & ~uint64_t{7}; }

// "f@chunk.lua:12" -> 12; 0 for main chunks and unparsable names.
uint32_t DefinitionLine(const std::string& name) {
  size_t colon = name.rfind(':');
  if (colon == std::string::npos) return 0;
  return static_cast<uint32_t>(std::strtoul(name.c_str() + colon + 1, nullptr, 10));
}

using LoadKey = std::tuple<uint64_t, uint64_t, std::string>;  // addr, size, name

// One VM run shared by the tests of this file (a few ms; each ctest test
// runs it again in its own process).
class JitdumpFormat : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    error_ = new std::string();
    testing::LaunchOptions options;
    options.argv = {JitvmBinary(), "--jitdump=" + dir_->path(), "--jit-threshold=0",
                    "--jit-event-log=" + dir_->File("events.log"), PerfLuaScript("jitdump_format.lua")};
    options.working_dir = dir_->path();
    before_ns_ = MonotonicNs();
    std::unique_ptr<testing::ChildProcess> vm = testing::ChildProcess::Start(options, error_);
    if (vm == nullptr) return;
    std::optional<int> status = vm->Wait(kPerfTimeout);
    after_ns_ = MonotonicNs();
    pid_ = vm->pid();
    if (status != 0) {
      *error_ = "jitvm failed (" + (status ? std::to_string(*status) : std::string("timed out")) + "): " +
                vm->Stdout() + vm->Stderr();
      return;
    }
    std::optional<JitEventLog> log = JitEventLog::Read(dir_->File("events.log"), error_);
    if (!log) return;
    log_ = new JitEventLog(std::move(*log));
    std::optional<Jitdump> dump = ReadJitdump(dir_->File("jit-" + std::to_string(pid_) + ".dump"), error_);
    if (!dump) return;
    dump_ = new Jitdump(std::move(*dump));
  }
  static void TearDownTestSuite() {
    delete dump_;
    delete log_;
    delete error_;
    delete dir_;
  }
  void SetUp() override { ASSERT_TRUE(dump_ != nullptr && log_ != nullptr) << *error_; }

  static std::vector<const JitdumpRecord*> Loads() {
    std::vector<const JitdumpRecord*> loads;
    for (const JitdumpRecord& r : dump_->records)
      if (r.id == kJitCodeLoad) loads.push_back(&r);
    return loads;
  }

  static inline testing::TempDir* dir_ = nullptr;
  static inline std::string* error_ = nullptr;
  static inline JitEventLog* log_ = nullptr;
  static inline Jitdump* dump_ = nullptr;
  static inline int pid_ = 0;
  static inline uint64_t before_ns_ = 0;
  static inline uint64_t after_ns_ = 0;
};

TEST_F(JitdumpFormat, HeaderIsVersion1ForX86_64AndThisProcess) {
  const JitdumpHeader& h = dump_->header;
  EXPECT_EQ(h.magic, kJitdumpMagic);
  EXPECT_EQ(h.version, 1u);
  EXPECT_EQ(h.total_size, kJitdumpHeaderSize);
  EXPECT_EQ(h.elf_mach, kElfMachineX86_64);
  EXPECT_EQ(h.pid, static_cast<uint32_t>(pid_));
  EXPECT_EQ(h.flags & kJitdumpFlagArchTimestamp, 0u) << "timestamps must be CLOCK_MONOTONIC, not the TSC";
  EXPECT_GE(h.timestamp, before_ns_) << "header timestamp is not CLOCK_MONOTONIC ns taken during the run";
  EXPECT_LE(h.timestamp, after_ns_) << "header timestamp is not CLOCK_MONOTONIC ns taken during the run";
}

TEST_F(JitdumpFormat, RecordsHaveKnownIdsAndMonotonicTimestampsAndEndWithOneClose) {
  ASSERT_FALSE(dump_->records.empty());
  uint64_t previous = dump_->header.timestamp;
  int closes = 0;
  for (const JitdumpRecord& r : dump_->records) {
    EXPECT_TRUE(r.id == kJitCodeLoad || r.id == kJitCodeDebugInfo || r.id == kJitCodeClose ||
                r.id == kJitCodeUnwindingInfo)
        << "record at offset " << r.file_offset << " has id " << r.id;
    EXPECT_GE(r.timestamp, previous) << "record at offset " << r.file_offset << " (id " << r.id
                                     << ") goes back in time";
    EXPECT_LE(r.timestamp, after_ns_) << "record at offset " << r.file_offset << " is stamped after the VM exited";
    previous = r.timestamp;
    if (r.id == kJitCodeClose) closes++;
  }
  EXPECT_EQ(closes, 1);
  EXPECT_EQ(dump_->records.back().id, kJitCodeClose) << "CODE_CLOSE must be written at exit, last";
}

TEST_F(JitdumpFormat, DebugInfoAndUnwindingInfoComeRightBeforeEachLoad) {
  const std::vector<JitdumpRecord>& records = dump_->records;
  for (size_t i = 0; i < records.size(); i++) {
    if (records[i].id != kJitCodeLoad) continue;
    const JitdumpCodeLoad& load = records[i].load;
    SCOPED_TRACE(load.name + " at " + Hex(load.code_addr));
    ASSERT_GE(i, 2u) << "CODE_LOAD at offset " << records[i].file_offset << " has no two records before it";
    std::set<uint32_t> before = {records[i - 1].id, records[i - 2].id};
    ASSERT_EQ(before, (std::set<uint32_t>{kJitCodeDebugInfo, kJitCodeUnwindingInfo}))
        << "the two records before CODE_LOAD have ids " << records[i - 2].id << ", " << records[i - 1].id;
    const JitdumpRecord& debug = records[i - 1].id == kJitCodeDebugInfo ? records[i - 1] : records[i - 2];
    const JitdumpRecord& unwind = records[i - 1].id == kJitCodeUnwindingInfo ? records[i - 1] : records[i - 2];

    EXPECT_EQ(debug.debug_info.code_addr, load.code_addr);
    EXPECT_FALSE(debug.debug_info.entries.empty()) << "no line entries";
    uint32_t first_line = DefinitionLine(load.name);
    for (const JitdumpDebugEntry& e : debug.debug_info.entries) {
      EXPECT_TRUE(e.addr >= load.code_addr && e.addr < load.code_addr + load.code_size)
          << "line entry at " << Hex(e.addr) << " outside the code";
      EXPECT_FALSE(e.name.empty()) << "line entry at " << Hex(e.addr) << " has no file name";
      EXPECT_GE(e.line, first_line) << "line entry at " << Hex(e.addr) << " is before the function's definition";
    }

    const JitdumpUnwindingInfo& u = unwind.unwinding;
    ASSERT_GT(u.eh_frame_hdr_size, 0u);
    ASSERT_GT(u.unwinding_size, u.eh_frame_hdr_size) << "no .eh_frame before the .eh_frame_hdr";
    ASSERT_GE(u.data.size(), u.unwinding_size);
    // perf inject splits the data into .eh_frame (first) and .eh_frame_hdr
    // (last eh_frame_hdr_size bytes); both must at least start right.
    uint32_t cie_length = 0, cie_id = 1;
    std::memcpy(&cie_length, u.data.data(), 4);
    std::memcpy(&cie_id, u.data.data() + 4, 4);
    EXPECT_GT(cie_length, 0u) << ".eh_frame does not start with a CIE";
    EXPECT_LE(cie_length + 4ull, u.unwinding_size - u.eh_frame_hdr_size) << "the CIE runs into .eh_frame_hdr";
    EXPECT_EQ(cie_id, 0u) << ".eh_frame does not start with a CIE";
    EXPECT_EQ(static_cast<uint8_t>(u.data[u.unwinding_size - u.eh_frame_hdr_size]), 1u)
        << ".eh_frame_hdr version is not 1";
  }
}

TEST_F(JitdumpFormat, LoadsAreWellFormedWithUniqueIndexAndCodeBytes) {
  std::vector<const JitdumpRecord*> loads = Loads();
  ASSERT_GE(loads.size(), kMinLoads);
  std::map<uint64_t, std::string> by_index;
  std::map<std::string, std::string> by_code;
  for (const JitdumpRecord* r : loads) {
    const JitdumpCodeLoad& load = r->load;
    SCOPED_TRACE(load.name + " at " + Hex(load.code_addr));
    EXPECT_EQ(load.pid, dump_->header.pid);
    EXPECT_NE(load.tid, 0u);
    EXPECT_EQ(load.vma, load.code_addr);
    EXPECT_GT(load.code_size, 0u);
    EXPECT_FALSE(load.name.empty());
    auto [index_it, new_index] = by_index.emplace(load.code_index, load.name);
    EXPECT_TRUE(new_index) << "code_index " << load.code_index << " is also " << index_it->second;
    auto [code_it, new_code] = by_code.emplace(load.code, load.name);
    EXPECT_TRUE(new_code) << "its " << load.code_size << " code bytes are identical to those of " << code_it->second
                          << ": perf inject would give both the same build-id";
  }
}

TEST_F(JitdumpFormat, EveryLoadOfTheEventLogHasAMatchingCodeLoadAndNoOther) {
  std::multiset<LoadKey> logged, dumped;
  for (const CodeLifetime& c : log_->lifetimes()) logged.insert({c.addr, c.size, c.name});
  for (const JitdumpRecord* r : Loads()) dumped.insert({r->load.code_addr, r->load.code_size, r->load.name});
  ASSERT_GE(logged.size(), kMinLoads);
  std::vector<LoadKey> missing, extra;
  std::set_difference(logged.begin(), logged.end(), dumped.begin(), dumped.end(), std::back_inserter(missing));
  std::set_difference(dumped.begin(), dumped.end(), logged.begin(), logged.end(), std::back_inserter(extra));
  for (const auto& [addr, size, name] : missing)
    ADD_FAILURE() << "event log loads " << name << " at " << Hex(addr) << " size " << size << ", jitdump does not";
  for (const auto& [addr, size, name] : extra)
    ADD_FAILURE() << "jitdump loads " << name << " at " << Hex(addr) << " size " << size << ", event log does not";
}

TEST_F(JitdumpFormat, EachLoadIsStampedWhileItsCodeIsLive) {
  // k-th load of (addr, size, name) in the dump <-> k-th in the event log.
  std::map<LoadKey, std::vector<const CodeLifetime*>> lifetimes;
  for (const CodeLifetime& c : log_->lifetimes()) lifetimes[{c.addr, c.size, c.name}].push_back(&c);
  std::map<LoadKey, size_t> seen;
  for (const JitdumpRecord* r : Loads()) {
    LoadKey key{r->load.code_addr, r->load.code_size, r->load.name};
    size_t k = seen[key]++;
    if (k >= lifetimes[key].size()) continue;  // reported by the matching test
    const CodeLifetime* c = lifetimes[key][k];
    // Stamped after the free, perf would map this code over whatever the
    // address holds next.
    EXPECT_LT(r->timestamp, c->free_ns) << r->load.name << " at " << Hex(c->addr) << " is stamped "
                                        << r->timestamp << ", after its free at " << c->free_ns;
  }
}

TEST_F(JitdumpFormat, NoMappingCoversTheCodeOfAnotherLiveFunction) {
  // The mapping perf inject makes for a load is its code rounded up to 8
  // plus the unwinding data: [code_addr, code_addr + align8(size) + mapped_size).
  std::map<LoadKey, std::vector<uint64_t>> mapped_sizes;  // in load order
  const std::vector<JitdumpRecord>& records = dump_->records;
  uint64_t pending_mapped_size = 0;
  for (const JitdumpRecord& r : records) {
    if (r.id == kJitCodeUnwindingInfo) pending_mapped_size = r.unwinding.mapped_size;
    if (r.id != kJitCodeLoad) continue;
    mapped_sizes[{r.load.code_addr, r.load.code_size, r.load.name}].push_back(pending_mapped_size);
    pending_mapped_size = 0;
  }
  struct Mapping {
    const CodeLifetime* code;
    uint64_t end;
  };
  std::vector<Mapping> mappings;
  std::map<LoadKey, size_t> seen;
  for (const CodeLifetime& c : log_->lifetimes()) {
    LoadKey key{c.addr, c.size, c.name};
    size_t k = seen[key]++;
    if (k >= mapped_sizes[key].size()) continue;  // reported by the matching test
    mappings.push_back({&c, c.addr + Align8(c.size) + mapped_sizes[key][k]});
  }
  ASSERT_GE(mappings.size(), kMinLoads);
  int overlaps = 0;
  for (const Mapping& m : mappings) {
    for (const CodeLifetime& other : log_->lifetimes()) {
      if (&other == m.code || !m.code->OverlapsInTime(other)) continue;
      if (m.code->addr < other.addr + other.size && other.addr < m.end) {
        overlaps++;
        ADD_FAILURE() << "the mapping of " << m.code->name << " [" << Hex(m.code->addr) << ", " << Hex(m.end)
                      << ") (code size " << m.code->size << ") covers live " << other.name << " at ["
                      << Hex(other.addr) << ", " << Hex(other.addr + other.size) << ")";
      }
    }
  }
  EXPECT_EQ(overlaps, 0);
}

}  // namespace
}  // namespace jitscope::perf_test
