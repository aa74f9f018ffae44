#include <charconv>
#include <iostream>

#include "command.h"
#include "perf_integration/flame_graph.h"
#include "perf_integration/perf_samples.h"

namespace jitscope::cli {
namespace {

constexpr std::string_view kUsage =
    "Usage: jitscope flamegraph DIR -o OUT.svg [--title TEXT] [--width PX] [--folded]\n"
    "\n"
    "A flame graph of a perf recording: one box per stack frame, as wide as\n"
    "the samples under it, callers below callees, the root at the bottom.\n"
    "JIT-compiled Lua functions (jitted-*.so after perf inject --jit, perf\n"
    "maps, the jit-cache memfd) are green, native code red-orange, the kernel\n"
    "blue. Hovering a box shows its name, samples and share. The SVG needs no\n"
    "script and is written atomically (a temporary file renamed into place).\n"
    "\n"
    "DIR is a recording directory holding perf.jit.data or perf.data (the\n"
    "first one present is read, through `perf script`; set JITSCOPE_PERF to\n"
    "use another perf binary). Record with -g for stacks; without callchains\n"
    "each sample is a one-frame stack.\n"
    "\n"
    "Options:\n"
    "  -o, --output FILE  where to write the SVG (required)\n"
    "  --title TEXT       the title (default \"Flame Graph\")\n"
    "  --width PX         image width (default 1200)\n"
    "  --folded           write folded stacks (flamegraph.pl input) instead\n"
    "\n"
    "Exit status: 0 on success, 1 if the recording cannot be read or the file\n"
    "cannot be written, 2 on a bad command line.\n";

// Narrower images cannot show a label; wider ones are posters.
constexpr int kMinWidth = 200;
constexpr int kMaxWidth = 20000;

int Run(const ParsedArgs& args) {
  static const Command* self = FindCommand("flamegraph");
  std::optional<std::string> output = args.Value("o");
  if (!output) output = args.Value("output");
  if (!output || output->empty()) return UsageError(*self, "missing -o OUT.svg");
  perf::FlameGraphOptions options;
  if (std::optional<std::string> title = args.Value("title")) options.title = *title;
  if (std::optional<std::string> text = args.Value("width")) {
    int width = 0;
    auto r = std::from_chars(text->data(), text->data() + text->size(), width);
    if (text->empty() || r.ec != std::errc() || r.ptr != text->data() + text->size() || width < kMinWidth ||
        width > kMaxWidth) {
      return UsageError(*self, "--width needs a number of pixels from " + std::to_string(kMinWidth) + " to " +
                                   std::to_string(kMaxWidth) + ", not '" + *text + "'");
    }
    options.width = width;
  }

  std::vector<perf::Sample> samples;
  std::string error;
  std::string file;
  if (!perf::ReadRecording(args.positionals[0], &samples, &error, &file)) {
    std::cerr << "jitscope flamegraph: " << error << "\n";
    return kExitFailure;
  }
  options.subtitle = file + " (" + std::to_string(samples.size()) + " samples)";
  bool folded = args.Has("folded");
  std::string contents = folded ? perf::FoldStacks(samples) : perf::RenderFlameGraphSvg(samples, options);
  if (!perf::WriteFileAtomically(*output, contents, &error)) {
    std::cerr << "jitscope flamegraph: " << error << "\n";
    return kExitFailure;
  }
  std::cout << "wrote " << (folded ? "folded stacks" : "a flame graph") << " of " << samples.size()
            << " samples from " << file << " to " << *output << "\n";
  return kExitOk;
}

const Command kFlameGraphCommand{
    .name = "flamegraph",
    .summary = "Flame graph SVG of a perf recording",
    .usage = kUsage,
    .options = {{.name = "o", .takes_value = true},
                {.name = "output", .takes_value = true},
                {.name = "title", .takes_value = true},
                {.name = "width", .takes_value = true},
                {.name = "folded"}},
    .min_positionals = 1,
    .max_positionals = 1,
    .run = Run,
};
JITSCOPE_REGISTER_COMMAND(kFlameGraphCommand);

}  // namespace
}  // namespace jitscope::cli
