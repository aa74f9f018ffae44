// How well perf named the compiled code it sampled: a sample is in compiled
// code when the event log says some function was live at the sample's time
// and covered its ip; it is attributed when perf's symbol for it is that
// function's name. Only the leaf frame is judged (its ip is absolute; perf
// prints call-chain ips relative to their DSO).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "jit_event_log.h"
#include "perf_script.h"

namespace jitscope::perf_test {

struct Attribution {
  int samples = 0;           // of the judged process
  int in_compiled_code = 0;  // ... whose ip some live compiled function covered
  int attributed = 0;        // ... and perf named it right
  std::map<std::string, int> per_function;                      // in-code samples by true name
  std::map<std::pair<std::string, std::string>, int> misnamed;  // (true name, perf's symbol) -> samples

  double Percent() const { return in_compiled_code == 0 ? 0.0 : 100.0 * attributed / in_compiled_code; }
  // The counts, samples per function and the most common wrong names.
  std::string Describe() const;
};

// `pid`: judge only that process's samples (nullopt: all of them).
Attribution Attribute(const std::vector<PerfSample>& samples, const JitEventLog& log, std::optional<int> pid);

}  // namespace jitscope::perf_test
