// Reads the output of `perf script -F pid,tid,time,ip,sym,dso --ns`:
//   " 5369/5371    324.300324758:      7fa12c000176 fib@hot.lua:2 (/tmp/d/jitted-5369-1.so)"
// and, when the data has call chains, a header line followed by one
// tab-indented "ip sym (dso)" line per frame, leaf first, and a blank line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace jitscope::perf_test {

struct PerfFrame {
  uint64_t ip = 0;
  std::string sym;  // "[unknown]" when perf has no symbol
  std::string dso;  // without the parentheses
};

struct PerfSample {
  int pid = 0;
  int tid = 0;
  uint64_t ns = 0;  // the sample's time; CLOCK_MONOTONIC with `perf record -k 1`
  std::vector<PerfFrame> frames;  // leaf first; never empty

  const PerfFrame& leaf() const { return frames.front(); }
  // True if a frame above the leaf has this symbol.
  bool CallerNamed(const std::string& sym) const;
};

std::optional<std::vector<PerfSample>> ParsePerfScript(const std::string& text, std::string* error);

// The pid most samples belong to (the profiled VM when perf started it); 0 if none.
int MostSampledPid(const std::vector<PerfSample>& samples);

}  // namespace jitscope::perf_test
