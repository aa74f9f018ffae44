#include <signal.h>
#include <time.h>

#include <atomic>
#include <cstring>
#include <cinttypes>
#include <cstdio>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "command.h"
#include "jit_process.h"
#include "unwinder/process_info.h"

namespace jitscope::cli {
namespace {

constexpr std::string_view kUsage =
    "Usage: jitscope watch PID [--interval MS] [--json]\n"
    "\n"
    "Streams the GDB JIT registrations of a running process as they happen,\n"
    "without stopping it: one line per entry registered or unregistered, with\n"
    "its registration timestamp, layout and functions. Polls the descriptor\n"
    "every MS milliseconds (default 10); a poll without change is one small\n"
    "read. An entry registered and unregistered between two polls is not seen\n"
    "(its functions usually reappear in the packed entry that replaced it).\n"
    "Stops when the process exits or on Ctrl-C.\n"
    "\n"
    "Options:\n"
    "  --interval MS   polling interval in milliseconds (1..60000, default 10)\n"
    "  --json          one JSON object per line\n"
    "\n"
    "Exit status: 0 when the process exits or on Ctrl-C, 1 if it cannot be\n"
    "read, 2 on a bad command line.\n";

std::atomic<bool> g_stop{false};

// Gone, or a zombie waiting for its parent: either way it has exited.

uint64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

using EntryKey = std::tuple<uint64_t, uint64_t, uint32_t>;  // entry, timestamp, seqlock

void Emit(bool json, const char* action, const SnapshotEntry& e, uint64_t seen_ns) {
  std::vector<std::string> names;
  if (e.info)
    for (const SymfileFunction& f : e.info->functions) names.push_back(f.name);
  std::string layout = e.info ? SymfileKindName(e.info->kind) : "unreadable";
  if (json) {
    nlohmann::json j{{"event", action},           {"seen_ns", seen_ns},  {"entry", HexAddress(e.entry_address)},
                     {"registered_ns", e.timestamp}, {"layout", layout}, {"symfile_size", e.symfile_size},
                     {"functions", names}};
    if (!e.problem.empty()) j["problem"] = e.problem;
    std::cout << j.dump() << std::endl;
    return;
  }
  printf("%" PRIu64 ".%06" PRIu64 " %-10s entry %s  %-10s %6" PRIu64 " bytes  %zu function%s", seen_ns / 1000000000,
         (seen_ns / 1000) % 1000000, action, HexAddress(e.entry_address).c_str(), layout.c_str(), e.symfile_size,
         names.size(), names.size() == 1 ? "" : "s");
  for (size_t i = 0; i < names.size() && i < 4; i++) printf("%s%s", i ? ", " : ": ", names[i].c_str());
  if (names.size() > 4) printf(", ...");
  printf("\n");
  fflush(stdout);
}

int Run(const ParsedArgs& args) {
  static const Command* self = FindCommand("watch");
  std::optional<int> pid = ParsePid(args.positionals[0]);
  if (!pid) return UsageError(*self, "'" + args.positionals[0] + "' is not a process id");
  int interval = 10;
  if (std::optional<std::string> v = args.Value("interval")) {
    char* end = nullptr;
    long n = strtol(v->c_str(), &end, 10);
    if (!end || *end || n < 1 || n > 60000) return UsageError(*self, "--interval takes 1..60000 milliseconds");
    interval = static_cast<int>(n);
  }
  bool json = args.Has("json");
  Result<Target> target = OpenTarget(*pid, "watch");
  if (!target) {
    std::cerr << "jitscope watch: " << target.error() << "\n";
    return kExitFailure;
  }
  struct sigaction sa = {};
  sa.sa_handler = [](int) { g_stop = true; };
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  std::map<EntryKey, SnapshotEntry> live;
  auto apply = [&](const JitSnapshot& snap, bool initial) {
    std::map<EntryKey, SnapshotEntry> now;
    for (const DescriptorView& d : snap.descriptors)
      for (const SnapshotEntry& e : d.entries) now.emplace(EntryKey{e.entry_address, e.timestamp, e.seqlock}, e);
    uint64_t seen = NowNs();
    for (const auto& [k, e] : live)
      if (!now.count(k)) Emit(json, "unregister", e, seen);
    // Oldest registration first.
    std::vector<const SnapshotEntry*> added;
    for (const auto& [k, e] : now)
      if (!live.count(k)) added.push_back(&e);
    std::sort(added.begin(), added.end(),
              [](const SnapshotEntry* a, const SnapshotEntry* b) { return a->timestamp < b->timestamp; });
    for (const SnapshotEntry* e : added) Emit(json, initial ? "existing" : "register", *e, seen);
    live = std::move(now);
  };
  apply(target->jit(), /*initial=*/true);
  while (!g_stop) {
    std::this_thread::sleep_for(std::chrono::milliseconds(interval));
    Result<bool> changed = target->snapshotter->Poll();
    if (!changed) {
      if (ProcessExited(*pid)) break;
      std::cerr << "jitscope watch: " << changed.error() << "\n";
      return kExitFailure;
    }
    if (*changed) apply(target->jit(), false);
  }
  if (!json) {
    const SnapshotterStats& s = target->snapshotter->stats();
    fprintf(stderr, "jitscope watch: %s after %" PRIu64 " polls (%" PRIu64 " without change, %" PRIu64 " retries)\n",
            g_stop ? "stopped" : "process exited", s.polls, s.unchanged_polls, s.retries);
  }
  return kExitOk;
}

const Command kWatchCommand{
    .name = "watch",
    .summary = "Stream JIT code registrations of a running process as they happen",
    .usage = kUsage,
    .options = {{.name = "interval", .takes_value = true}, {.name = "json"}},
    .min_positionals = 1,
    .max_positionals = 1,
    .run = Run,
};
JITSCOPE_REGISTER_COMMAND(kWatchCommand);

}  // namespace
}  // namespace jitscope::cli
