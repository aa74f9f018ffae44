#include "attribution.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace jitscope::perf_test {
namespace {

// Enough wrong names to see the pattern without flooding the failure message.
constexpr size_t kMisnamedShown = 8;

}  // namespace

Attribution Attribute(const std::vector<PerfSample>& samples, const JitEventLog& log, std::optional<int> pid) {
  Attribution result;
  for (const PerfSample& sample : samples) {
    if (pid && sample.pid != *pid) continue;
    result.samples++;
    const CodeLifetime* truth = log.Find(sample.leaf().ip, sample.ns);
    if (truth == nullptr) continue;
    result.in_compiled_code++;
    result.per_function[truth->name]++;
    if (sample.leaf().sym == truth->name) {
      result.attributed++;
    } else {
      result.misnamed[{truth->name, sample.leaf().sym}]++;
    }
  }
  return result;
}

std::string Attribution::Describe() const {
  std::ostringstream text;
  char percent[32];
  std::snprintf(percent, sizeof(percent), "%.1f%%", Percent());
  text << attributed << " of " << in_compiled_code << " samples in compiled code named right (" << percent << "); "
       << samples << " samples in all\n  in-code samples by function:";
  for (const auto& [name, count] : per_function) text << "\n    " << count << "  " << name;
  std::vector<std::pair<int, std::pair<std::string, std::string>>> wrong;
  for (const auto& [names, count] : misnamed) wrong.push_back({count, names});
  std::sort(wrong.rbegin(), wrong.rend());
  if (!wrong.empty()) text << "\n  most common wrong names (samples: truth -> perf):";
  for (size_t i = 0; i < wrong.size() && i < kMisnamedShown; i++) {
    text << "\n    " << wrong[i].first << ": " << wrong[i].second.first << " -> " << wrong[i].second.second;
  }
  return text.str();
}

}  // namespace jitscope::perf_test
