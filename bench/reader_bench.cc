// The readers against a live jitvm with 100,000 compiled functions (the
// issue's size): a full snapshot (descriptor list + every symbol file copied
// with process_vm_readv and parsed), a poll without change, and symbolization
// throughput (batch lookups of random addresses inside JIT functions), with
// `gdb -p PID -batch -ex 'info symbol ADDR'` doing the same lookups in the
// same run for the ratio. Benchmark only, run on demand:
//   build/bin/reader_bench [--count 50000] [--mode mini|unpacked] [--gdb-lookups 20]
// (COUNT chunks compile to 2 * COUNT + 1 functions.)
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "debuginfo/descriptor_locator.h"
#include "debuginfo/jit_snapshot.h"
#include "debuginfo/process_maps.h"
#include "debuginfo/symbolizer.h"
#include "unwinder/remote_memory.h"

using namespace jitscope;
using Clock = std::chrono::steady_clock;

namespace {

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

bool Stopped(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t p = s.rfind(')');
  return p != std::string::npos && p + 2 < s.size() && s[p + 2] == 'T';
}

}  // namespace

int main(int argc, char** argv) {
  std::string bin = std::string(argv[0]).substr(0, std::string(argv[0]).rfind('/'));
  std::string jitvm = bin + "/jitvm";
  std::string program = std::string(JITSCOPE_SOURCE_DIR) + "/bench/lua/many_functions.lua";
  int count = 50000, gdb_lookups = 20;
  std::string mode = "mini";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--count")) count = atoi(argv[i + 1]);
    if (!strcmp(argv[i], "--mode")) mode = argv[i + 1];
    if (!strcmp(argv[i], "--gdb-lookups")) gdb_lookups = atoi(argv[i + 1]);
  }
  pid_t pid = fork();
  if (pid == 0) {
    freopen("/dev/null", "w", stdout);
    std::vector<const char*> a = {jitvm.c_str(), "--jit-threshold=0", "--test-builtins", "--jit-cache-size=512M"};
    if (mode == "unpacked") a.push_back("--jit-debug-pack=off");
    std::string n = std::to_string(count);
    a.insert(a.end(), {program.c_str(), n.c_str(), "1", "stop"});  // one round: every function compiled
    a.push_back(nullptr);
    execv(jitvm.c_str(), const_cast<char* const*>(a.data()));
    _exit(127);
  }
  auto t0 = Clock::now();
  while (!Stopped(pid)) {
    if (waitpid(pid, nullptr, WNOHANG) == pid || Seconds(t0, Clock::now()) > 600) {
      fprintf(stderr, "jitvm did not reach vmtest.stop_here\n");
      return 1;
    }
    usleep(20000);
  }
  printf("jitvm %s, %d chunks, stopped after %.1f s\n", mode.c_str(), count, Seconds(t0, Clock::now()));
  DescriptorLocator locator;
  Result<std::vector<DescriptorLocation>> where = locator.Locate(pid);
  if (!where || where->empty()) {
    fprintf(stderr, "no descriptor\n");
    kill(pid, SIGKILL);
    return 1;
  }
  RemoteMemory memory(pid);

  // Full snapshot: a fresh snapshotter each time (nothing cached), best of 5.
  double best_full = 1e9;
  JitSnapshot snap;
  SnapshotterStats full_stats;
  for (int i = 0; i < 5; i++) {
    JitSnapshotter s(memory, *where, {}, /*parse=*/false);
    auto a = Clock::now();
    Result<bool> r = s.Poll();
    double t = Seconds(a, Clock::now());
    if (!r) {
      fprintf(stderr, "snapshot failed: %s\n", r.error().c_str());
      kill(pid, SIGKILL);
      return 1;
    }
    if (t < best_full) best_full = t, snap = s.snapshot(), full_stats = s.stats();
  }
  size_t entries = 0;
  for (const DescriptorView& d : snap.descriptors) entries += d.entries.size();
  printf("full snapshot (consistent copy of the list and every symbol file): %.2f ms (best of 5): %zu entries, "
         "%llu symbol-file bytes copied\n",
         best_full * 1e3, entries, (unsigned long long)full_stats.symfile_bytes);
  auto p0 = Clock::now();
  ParseSnapshotEntries(&snap);
  double parse_ms = Seconds(p0, Clock::now()) * 1e3;
  JitSnapshot::Totals totals = snap.totals();
  printf("parsing every symbol file on demand (xz + libelf): %.2f ms for %llu functions\n", parse_ms,
         (unsigned long long)totals.functions);

  // No-change poll.
  {
    JitSnapshotter s(memory, *where);
    (void)s.Poll();
    const int n = 200000;
    auto a = Clock::now();
    for (int i = 0; i < n; i++) (void)s.Poll();
    printf("no-change poll: %.2f us (mean of %d)\n", Seconds(a, Clock::now()) * 1e6 / n, n);
  }

  // Symbolization throughput: random addresses inside JIT functions.
  Symbolizer symbols;
  auto a = Clock::now();
  symbols.AddJit(snap);
  symbols.Finish();
  double index_ms = Seconds(a, Clock::now()) * 1e3;
  std::vector<std::pair<uint64_t, std::string>> fns;
  for (const DescriptorView& d : snap.descriptors)
    for (const SnapshotEntry& e : d.entries)
      if (e.info)
        for (const SymfileFunction& f : e.info->functions) fns.emplace_back(f.address + f.size / 2, f.name);
  std::mt19937_64 rng(42);
  const size_t lookups = 10000000;
  std::vector<uint64_t> addrs(lookups);
  for (uint64_t& x : addrs) x = fns[rng() % fns.size()].first;
  std::vector<int32_t> out(lookups);
  a = Clock::now();
  symbols.LookupBatch(addrs.data(), addrs.size(), out.data());
  double batch_s = Seconds(a, Clock::now());
  size_t misses = std::count(out.begin(), out.end(), -1);
  double ours_per_lookup = batch_s / lookups;
  printf("symbolize: index of %zu ranges built in %.1f ms; %.1f M lookups/s (%zu misses)\n", symbols.size(), index_ms,
         lookups / batch_s / 1e6, misses);

  // gdb: the same kind of lookups, one batch invocation.
  std::string cmd = "gdb -nx -batch -p " + std::to_string(pid);
  for (int i = 0; i < gdb_lookups; i++) {
    char buf[64];
    snprintf(buf, sizeof(buf), " -ex 'info symbol 0x%llx'", (unsigned long long)fns[rng() % fns.size()].first);
    cmd += buf;
  }
  cmd += " > /dev/null 2>&1";
  a = Clock::now();
  int rc = system(cmd.c_str());
  double gdb_s = Seconds(a, Clock::now());
  printf("gdb: %d x info symbol in one attach: %.2f s (exit %d) = %.1f ms per lookup; ratio gdb/ours per lookup: %.0fx\n",
         gdb_lookups, gdb_s, rc, gdb_s * 1e3 / gdb_lookups, (gdb_s / gdb_lookups) / ours_per_lookup);
  double ours_total = best_full + parse_ms / 1e3 + index_ms / 1e3;
  printf("       (including attach; our snapshot + parse + index: %.1f ms, ratio %.0fx)\n", ours_total * 1e3,
         gdb_s / ours_total);
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  return 0;
}
