#include <signal.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "command.h"
#include "perf_integration/jit_recorder.h"

namespace jitscope::cli {
namespace {

constexpr std::string_view kUsage =
    "Usage: jitscope record [-o DIR] [--freq HZ] [-g | --call-graph dwarf] [--duration SEC]\n"
    "                       (-p PID | -- COMMAND [ARGS...])\n"
    "\n"
    "Profiles a JIT process with perf and names its JIT frames, even when the\n"
    "process writes no jitdump and no perf map: while `perf record -k 1` samples\n"
    "the target, jitscope reads its GDB JIT descriptor asynchronously (polling\n"
    "adapts between 0.5 and 20 ms, driven by the descriptor timestamp), keeps\n"
    "every function it sees with its registration time and code bytes, and at\n"
    "the end writes them as a jitdump and runs `perf inject --jit`. Functions\n"
    "whose code was freed before the end are named too; code registered and\n"
    "unregistered between two polls is not (record.json gives the largest gap).\n"
    "\n"
    "DIR (default ./jitscope-record) receives perf.data, perf.jit.data (read it\n"
    "with `perf report -i DIR/perf.jit.data` or `jitscope report DIR`), the\n"
    "jitdump and jitted-PID-N.so files, perf.log and record.json.\n"
    "\n"
    "Options:\n"
    "  -o DIR               output directory (created if missing)\n"
    "  --freq HZ            sampling frequency (default 1000)\n"
    "  -g                   frame-pointer call graphs (perf record -g)\n"
    "  --call-graph dwarf   DWARF call graphs (stack copies; large files)\n"
    "  --duration SEC       stop after SEC seconds (default: when the target exits)\n"
    "  -p PID               attach to a running process (stop with Ctrl-C or --duration)\n"
    "\n"
    "Events: hardware cycles where available, else the cpu-clock software event.\n"
    "Exit status: 0 recorded, 1 failed, 2 bad command line.\n";

std::atomic<bool> g_stop{false};

int Run(const ParsedArgs& args) {
  static const Command* self = FindCommand("record");
  perf::RecordOptions options;
  if (auto v = args.Value("o")) options.out_dir = *v;
  if (auto v = args.Value("freq")) {
    char* end = nullptr;
    long hz = strtol(v->c_str(), &end, 10);
    if (!end || *end || hz < 1 || hz > 100000) return UsageError(*self, "--freq takes 1..100000 Hz");
    options.frequency_hz = static_cast<int>(hz);
  }
  if (args.Has("g")) options.call_graph = perf::CallGraph::kFramePointer;
  if (auto v = args.Value("call-graph")) {
    if (*v == "dwarf") options.call_graph = perf::CallGraph::kDwarf;
    else if (*v == "fp") options.call_graph = perf::CallGraph::kFramePointer;
    else return UsageError(*self, "--call-graph takes dwarf or fp");
  }
  if (auto v = args.Value("duration")) {
    char* end = nullptr;
    double d = strtod(v->c_str(), &end);
    if (!end || *end || !(d > 0) || d > 86400) return UsageError(*self, "--duration takes 0..86400 seconds");
    options.duration_s = d;
  }
  if (auto v = args.Value("p")) {
    std::optional<int> pid = ParsePid(*v);
    if (!pid) return UsageError(*self, "'" + *v + "' is not a process id");
    if (!args.positionals.empty()) return UsageError(*self, "give either -p PID or a command, not both");
    options.pid = *pid;
  } else {
    if (args.positionals.empty()) return UsageError(*self, "give -p PID or -- COMMAND");
    options.command = args.positionals;
  }
  struct sigaction sa = {};
  sa.sa_handler = [](int) { g_stop = true; };
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  options.stop = &g_stop;

  Result<perf::RecordResult> r = perf::Record(options);
  if (!r) {
    std::cerr << "jitscope record: " << r.error() << "\n";
    return kExitFailure;
  }
  fprintf(stderr,
          "jitscope record: target %d: %llu functions seen (%llu freed before the end) in %llu entries; "
          "%llu polls (%llu changed), largest gap %.1f ms, %.1f%% of a core over %.2f s\n",
          static_cast<int>(r->target_pid), (unsigned long long)r->functions_loaded,
          (unsigned long long)r->functions_unloaded, (unsigned long long)r->entries_seen, (unsigned long long)r->polls,
          (unsigned long long)r->changed_polls, static_cast<double>(r->max_poll_gap_ns) / 1e6,
          r->wall_s > 0 ? 100.0 * r->poll_cpu_s / r->wall_s : 0.0, r->wall_s);
  if (!r->descriptor_found)
    fprintf(stderr, "jitscope record: warning: the target exposed no __jit_debug_descriptor; JIT frames stay unnamed\n");
  fprintf(stderr, "jitscope record: wrote %s (perf inject --jit: %.2f s)\n", r->perf_jit_data.c_str(), r->inject_s);
  return kExitOk;
}

const Command kRecord{
    .name = "record",
    .summary = "Profile a JIT process with perf, naming JIT code from its descriptor",
    .usage = kUsage,
    .options = {{"o", true}, {"freq", true}, {"g", false}, {"call-graph", true}, {"duration", true}, {"p", true}},
    .min_positionals = 0,
    .max_positionals = 4096,
    .run = Run,
};
JITSCOPE_REGISTER_COMMAND(kRecord);

}  // namespace
}  // namespace jitscope::cli
