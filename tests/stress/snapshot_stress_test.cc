// A jitvm compiles, frees, repacks and compresses code without pause while
// this process snapshots it as fast as it can (JitSnapshotter over
// process_vm_readv, as `jitscope maps` does), for 30 s. Every accepted
// snapshot must be consistent: every entry's symbol file parses, and every
// function in it was loaded (per the VM's --jit-event-log) at or before the
// snapshot's descriptor timestamp T; a function in a single-function entry
// must also not have been freed at or before T (single entries are
// unregistered when their code is freed; packed groups keep freed symbols
// until their next repack, by design). Reports snapshots per second and
// the retry rate. JITSCOPE_STRESS_SECONDS overrides the duration.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <tuple>

#include "debuginfo/descriptor_locator.h"
#include "debuginfo/jit_snapshot.h"
#include "debuginfo/process_maps.h"
#include "harness/child_process.h"
#include "harness/paths.h"
#include "harness/temp_dir.h"
#include "unwinder/remote_memory.h"

namespace jitscope {
namespace {

struct Life {
  uint64_t load_ns;
  uint64_t free_ns;  // UINT64_MAX while live
};
using CodeKey = std::tuple<uint64_t, uint64_t, std::string>;  // address, size, name

struct Checked {
  uint64_t t;
  bool single;
  CodeKey key;
};

std::map<CodeKey, std::vector<Life>> ReadEventLog(const std::string& path) {
  std::map<CodeKey, std::vector<Life>> lives;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::string kind, addr;
    uint64_t ns = 0, size = 0;
    f >> kind >> ns >> addr >> size;
    std::string name;
    std::getline(f, name);
    if (!name.empty() && name[0] == ' ') name.erase(0, 1);
    CodeKey key{std::stoull(addr, nullptr, 16), size, name};
    if (kind == "load") {
      lives[key].push_back(Life{ns, UINT64_MAX});
    } else if (kind == "free") {
      auto& v = lives[key];
      if (!v.empty() && v.back().free_ns == UINT64_MAX) v.back().free_ns = ns;
    }
  }
  return lives;
}

TEST(SnapshotStress, EveryAcceptedSnapshotIsConsistentWhileTheVmChurns) {
  int seconds = 30;
  if (const char* s = getenv("JITSCOPE_STRESS_SECONDS")) seconds = std::max(2, atoi(s));
  testing::TempDir dir;
  std::string log = dir.File("events.log");
  testing::LaunchOptions options;
  options.argv = {testing::BinPath("jitvm"), "--jit-threshold=0", "--jit-event-log=" + log,
                  testing::SourcePath("tests/stress/churn.lua"), std::to_string(seconds)};
  std::string error;
  std::unique_ptr<testing::ChildProcess> vm = testing::ChildProcess::Start(options, &error);
  ASSERT_NE(vm, nullptr) << error;

  // Find the descriptor once the VM has mapped its binary.
  std::vector<DescriptorLocation> where;
  DescriptorLocator locator;
  for (int i = 0; i < 200 && where.empty(); i++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    Result<std::vector<DescriptorLocation>> found = locator.Locate(vm->pid());
    if (found && !found->empty()) where = *found;
  }
  ASSERT_FALSE(where.empty()) << "no descriptor in jitvm";
  RemoteMemory memory(vm->pid());
  JitSnapshotter snapshotter(memory, where);

  std::vector<Checked> checked;
  constexpr size_t kMaxChecked = 4000000;  // symbols kept for the check
  uint64_t accepted = 0, changed = 0, rejected = 0, torn = 0, max_functions = 0;
  std::string first_torn;
  auto start = std::chrono::steady_clock::now();
  auto end = start + std::chrono::seconds(seconds - 1);
  while (std::chrono::steady_clock::now() < end && vm->running()) {
    Result<bool> polled = snapshotter.Poll();
    if (!polled) {
      rejected++;  // the target kept changing beyond the retry limit: no snapshot, no harm
      continue;
    }
    accepted++;
    if (!*polled) continue;
    changed++;
    const JitSnapshot& snap = snapshotter.snapshot();
    uint64_t functions = 0;
    for (const DescriptorView& d : snap.descriptors) {
      for (const SnapshotEntry& e : d.entries) {
        if (!e.info || !e.problem.empty()) {
          if (torn++ == 0) first_torn = HexAddress(e.entry_address) + ": " + e.problem;
          continue;
        }
        functions += e.info->functions.size();
        if (checked.size() + e.info->functions.size() > kMaxChecked) continue;
        for (const SymfileFunction& f : e.info->functions)
          checked.push_back(Checked{d.header.timestamp, e.info->kind == SymfileKind::kSingle,
                                    CodeKey{f.address, f.size, f.name}});
      }
    }
    max_functions = std::max(max_functions, functions);
  }
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::optional<int> status = vm->Wait(std::chrono::seconds(30));
  ASSERT_TRUE(status.has_value()) << "jitvm did not finish";
  EXPECT_EQ(*status, 0);

  std::map<CodeKey, std::vector<Life>> lives = ReadEventLog(log);
  ASSERT_FALSE(lives.empty()) << "empty event log";
  uint64_t bad = 0;
  std::string first_bad;
  for (const Checked& c : checked) {
    auto it = lives.find(c.key);
    bool ok = false;
    if (it != lives.end()) {
      for (const Life& l : it->second) {
        if (l.load_ns > c.t) continue;
        if (c.single && l.free_ns <= c.t) continue;
        ok = true;
        break;
      }
    }
    if (!ok && bad++ == 0) {
      std::ostringstream why;
      why << std::get<2>(c.key) << " at " << HexAddress(std::get<0>(c.key)) << " size " << std::get<1>(c.key)
          << " in a snapshot at T=" << c.t << (c.single ? " (single entry)" : " (group)") << "; log:";
      if (it != lives.end())
        for (const Life& l : it->second) why << " [" << l.load_ns << ", " << l.free_ns << ")";
      first_bad = why.str();
    }
  }
  const SnapshotterStats& s = snapshotter.stats();
  double polls_per_s = static_cast<double>(accepted) / elapsed;
  double changed_per_s = static_cast<double>(changed) / elapsed;
  double retry_rate = s.list_reads ? static_cast<double>(s.retries) / static_cast<double>(s.list_reads) : 0.0;
  printf("stress: %.1f s, %llu accepted snapshots (%.0f/s), %llu with changes (%.0f/s), %llu rejected, "
         "%llu retries over %llu list reads (%.1f%%), %llu symfiles read, up to %llu functions, %zu symbols checked\n",
         elapsed, (unsigned long long)accepted, polls_per_s, (unsigned long long)changed, changed_per_s,
         (unsigned long long)rejected, (unsigned long long)s.retries, (unsigned long long)s.list_reads,
         100.0 * retry_rate, (unsigned long long)s.symfiles_read, (unsigned long long)max_functions, checked.size());
  RecordProperty("snapshots_per_second", std::to_string(polls_per_s));
  RecordProperty("retry_rate", std::to_string(retry_rate));
  EXPECT_GT(changed, 10u) << "the VM hardly changed: the test proved nothing";
  EXPECT_EQ(torn, 0u) << first_torn;
  EXPECT_EQ(bad, 0u) << bad << " of " << checked.size() << " symbols were not live; first: " << first_bad;
}

}  // namespace
}  // namespace jitscope
