// Running the real perf (and the programs it profiles) for the perf tests:
// whether this machine lets us profile at all, where the test scripts and
// binaries are, and perf record / inject / script with the options every
// test shares. Only software events exist here, so always `-e cpu-clock`;
// `-k 1` makes sample times CLOCK_MONOTONIC like jitdump and the event log.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "harness/tool_runner.h"
#include "perf_script.h"

namespace jitscope::perf_test {

// One perf step on a 2-core machine that may be building at the same time.
constexpr std::chrono::milliseconds kPerfTimeout = std::chrono::seconds(60);
// 4 kHz over the scripts' ~1.5 s of CPU gives thousands of samples, far
// above the 200 the tests need, at a data size perf processes in a second.
constexpr int kSampleFrequency = 4000;

// Empty if `perf record -e cpu-clock` works here; why not otherwise.
// (perf_event_open may be forbidden by perf_event_paranoid or seccomp.)
const std::string& PerfUnavailableReason();

std::string PerfPath();
std::string JitvmBinary();
std::string JitscopeBinary();
// tests/perf/lua/NAME; jitvm names chunks by basename ("fib@hot.lua:2").
std::string PerfLuaScript(const std::string& name);

testing::ToolResult RunPerf(const std::vector<std::string>& args,
                            std::chrono::milliseconds timeout = kPerfTimeout);

// `perf record -k 1 -e cpu-clock -F frequency <extra> -o OUT -- command`,
// run in `working_dir`. The build-id cache is left alone (-N): jitted code
// would fill ~/.debug with one DSO per function per run.
testing::ToolResult PerfRecord(const std::string& out, const std::vector<std::string>& extra,
                               const std::vector<std::string>& command, const std::string& working_dir,
                               int frequency = kSampleFrequency);
// `perf inject --jit`: one jitted-PID-N.so per jitdump CODE_LOAD, beside the dump.
testing::ToolResult PerfInjectJit(const std::string& in, const std::string& out);

// `perf script -F pid,tid,time,ip,sym,dso --ns` of `data`, parsed. With
// `hide_call_graph` (-G) only the leaf, whose ip is absolute, is printed.
std::optional<std::vector<PerfSample>> PerfScriptSamples(const std::string& data, bool hide_call_graph,
                                                         std::string* error);

// DIR/jit-PID.dump: its path and pid; nullopt and *error unless exactly one.
std::optional<std::string> FindJitdump(const std::string& dir, int* pid, std::string* error);

}  // namespace jitscope::perf_test

// Skips the test, saying why, when this machine cannot run perf record.
#define JITSCOPE_REQUIRE_PERF()                                                    \
  do {                                                                             \
    const std::string& jitscope_perf_reason_ = ::jitscope::perf_test::PerfUnavailableReason(); \
    if (!jitscope_perf_reason_.empty()) GTEST_SKIP() << jitscope_perf_reason_;     \
  } while (false)
