#include <charconv>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "command.h"
#include "perf_integration/perf_samples.h"

namespace jitscope::cli {
namespace {

constexpr std::string_view kUsage =
    "Usage: jitscope report DIR [--json] [--limit N]\n"
    "\n"
    "The top functions of a perf recording: for each function (symbol and\n"
    "DSO), its self samples (it was the running function) and its total\n"
    "samples (it was anywhere on the call stack, counted once per sample even\n"
    "when recursive), sorted by self. Without callchains (recorded without -g)\n"
    "total equals self.\n"
    "\n"
    "DIR is a recording directory holding perf.jit.data (after perf inject\n"
    "--jit, which names JIT-compiled Lua functions) or perf.data; the first\n"
    "one present is read, through `perf script` (set JITSCOPE_PERF to use\n"
    "another perf binary).\n"
    "\n"
    "Options:\n"
    "  --json      print JSON instead of text\n"
    "  --limit N   show the top N functions (default 25; 0: all)\n"
    "\n"
    "Exit status: 0 on success, 1 if the recording cannot be read, 2 on a bad\n"
    "command line.\n";

// Enough to see where the time goes without scrolling; --limit 0 for all.
constexpr size_t kDefaultLimit = 25;
// Longer names still print whole; they only stop aligning the DSO column.
constexpr size_t kMaxNameColumn = 60;

double Rounded(double percent) { return std::round(percent * 100.0) / 100.0; }

int Run(const ParsedArgs& args) {
  static const Command* self = FindCommand("report");
  size_t limit = kDefaultLimit;
  if (std::optional<std::string> text = args.Value("limit")) {
    auto r = std::from_chars(text->data(), text->data() + text->size(), limit);
    if (text->empty() || r.ec != std::errc() || r.ptr != text->data() + text->size()) {
      return UsageError(*self, "--limit needs a number, not '" + *text + "'");
    }
  }
  std::vector<perf::Sample> samples;
  std::string error;
  std::string file;
  if (!perf::ReadRecording(args.positionals[0], &samples, &error, &file)) {
    std::cerr << "jitscope report: " << error << "\n";
    return kExitFailure;
  }
  perf::Profile profile = perf::BuildProfile(samples);
  size_t shown = limit == 0 ? profile.functions.size() : std::min(limit, profile.functions.size());

  if (args.Has("json")) {
    nlohmann::json functions = nlohmann::json::array();
    for (size_t i = 0; i < shown; i++) {
      const perf::FunctionStats& f = profile.functions[i];
      functions.push_back({{"name", f.name},
                           {"dso", f.dso},
                           {"kind", perf::FrameKindName(f.kind)},
                           {"self", f.self},
                           {"total", f.total},
                           {"self_percent", Rounded(perf::Percent(f.self, profile.samples))},
                           {"total_percent", Rounded(perf::Percent(f.total, profile.samples))}});
    }
    nlohmann::json out{{"file", file},
                       {"samples", profile.samples},
                       {"has_callchains", profile.has_callchains},
                       {"function_count", profile.functions.size()},
                       {"functions", std::move(functions)}};
    // Symbols are whatever bytes the binary holds; never throw on them.
    std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return kExitOk;
  }

  std::cout << profile.samples << " samples in " << file
            << (profile.has_callchains ? " (with callchains)" : " (no callchains: total = self)") << "\n";
  size_t name_width = 8;
  for (size_t i = 0; i < shown; i++) name_width = std::max(name_width, profile.functions[i].name.size());
  name_width = std::min(name_width, kMaxNameColumn);
  printf("%6s %7s %7s %7s  %-*s  %s\n", "SELF%", "SELF", "TOTAL%", "TOTAL", int(name_width), "FUNCTION", "DSO");
  for (size_t i = 0; i < shown; i++) {
    const perf::FunctionStats& f = profile.functions[i];
    printf("%5.2f%% %7" PRIu64 " %6.2f%% %7" PRIu64 "  %-*s  %s\n", perf::Percent(f.self, profile.samples), f.self,
           perf::Percent(f.total, profile.samples), f.total, int(name_width), f.name.c_str(), f.dso.c_str());
  }
  if (shown < profile.functions.size()) {
    printf("(%zu more functions; --limit 0 shows all)\n", profile.functions.size() - shown);
  }
  fflush(stdout);
  return kExitOk;
}

const Command kReportCommand{
    .name = "report",
    .summary = "Top functions of a perf recording: self and total samples",
    .usage = kUsage,
    .options = {{.name = "json"}, {.name = "limit", .takes_value = true}},
    .min_positionals = 1,
    .max_positionals = 1,
    .run = Run,
};
JITSCOPE_REGISTER_COMMAND(kReportCommand);

}  // namespace
}  // namespace jitscope::cli
