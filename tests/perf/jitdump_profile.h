// The jitdump path end to end, as a user would run it: jitvm --jitdump under
// `perf record -k 1`, then `perf inject --jit`, then perf script of the
// injected data, plus the VM's event log to judge the result with.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "jit_event_log.h"
#include "perf_runner.h"
#include "perf_script.h"

namespace jitscope::perf_test {

struct JitdumpProfileOptions {
  std::string script;                     // in tests/perf/lua
  std::vector<std::string> jitvm_flags;   // besides --jitdump and --jit-event-log
  std::vector<std::string> record_flags;  // besides -k 1 -e cpu-clock -F
  int frequency = kSampleFrequency;       // perf record -F
  bool hide_call_graph = false;           // perf script -G: leaves only
};

struct JitdumpProfile {
  int pid = 0;               // of the VM, from jit-PID.dump
  std::string dump_path;     // DIR/jit-PID.dump
  std::string injected;      // DIR/perf.jit.data
  JitEventLog log;           // DIR/events.log
  std::vector<PerfSample> samples;
};

// Runs everything in `dir`; nullopt and *error (with the failing tool's
// output) if a step fails.
std::optional<JitdumpProfile> ProfileWithJitdump(const std::string& dir, const JitdumpProfileOptions& options,
                                                 std::string* error);

}  // namespace jitscope::perf_test
