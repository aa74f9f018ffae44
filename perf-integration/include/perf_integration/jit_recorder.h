// `jitscope record`: profiles a process that writes no jitdump and no perf
// map, the way simpleperf does for ART. perf records the target with
// CLOCK_MONOTONIC timestamps while we read the target's GDB JIT descriptor
// asynchronously (seqlock-verified snapshots, never stopping it); at the end
// the symbols we saw, with their registration timestamps and code bytes, are
// written as a jitdump and `perf inject --jit` turns it into perf.jit.data.
//
// How perf inject is made to read our jitdump: it only reads jit-PID.dump
// files that process PID mapped executable while being recorded. A "marker"
// child of ours maps DIR/jit-CHILD.dump PROT_EXEC and sleeps; perf records it
// with the target (-p TARGET,MARKER), synthesizing the mapping at start, so
// every injected record sits at the start of the stream and perf report
// orders them by time. The CODE_LOADs carry the target's pid.
//
// Polling adapts to the target: each poll costs one small read of the
// descriptor header while nothing changes; the interval halves down to
// kMinPollIntervalNs after a change and doubles up to kMaxPollIntervalNs while
// quiet. Code registered and unregistered within one interval is missed (its
// samples stay unnamed); RecordResult reports the largest gap between polls,
// which bounds that window.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "debuginfo/result.h"

namespace jitscope::perf {

inline constexpr uint64_t kMinPollIntervalNs = 500'000;     // 0.5 ms: a JIT compiles a function in ~50 us
inline constexpr uint64_t kMaxPollIntervalNs = 20'000'000;  // 20 ms: bounds the missed window while quiet

enum class CallGraph { kNone, kFramePointer, kDwarf };

struct RecordOptions {
  std::string out_dir = "jitscope-record";
  int frequency_hz = 1000;
  CallGraph call_graph = CallGraph::kNone;
  double duration_s = 0;              // 0: until the target exits (or *stop)
  pid_t pid = 0;                      // attach to a running process...
  std::vector<std::string> command;   // ...or launch this one
  std::string perf = "perf";
  const std::atomic<bool>* stop = nullptr;  // set from a signal handler to end the recording
};

struct RecordResult {
  pid_t target_pid = 0;
  int target_status = -1;       // launched command: exit code, or 128 + signal
  std::string perf_data, perf_jit_data, jitdump;
  uint64_t polls = 0, changed_polls = 0, poll_errors = 0;
  uint64_t entries_seen = 0, functions_loaded = 0, functions_unloaded = 0;
  uint64_t code_read_failures = 0;
  uint64_t max_poll_gap_ns = 0;
  double wall_s = 0, poll_cpu_s = 0;  // CPU of the polling thread while recording
  double inject_s = 0;
  bool descriptor_found = false;
};

Result<RecordResult> Record(const RecordOptions& options);

}  // namespace jitscope::perf
