// Flame graphs of perf samples (Brendan Gregg's layout): stacks merged from
// the root, one rectangle per frame with a width proportional to its
// samples, the root at the bottom, children sorted by name, colours by
// frame kind (JIT, native, kernel). Standalone SVG, no script.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "perf_integration/perf_samples.h"

namespace jitscope::perf {

struct FlameGraphOptions {
  std::string title = "Flame Graph";
  std::string subtitle;  // e.g. the recording file; omitted when empty
  int width = 1200;      // px
  int frame_height = 16;  // px per stack level
  int font_size = 12;     // px
  // Frames narrower than this are left out (with their children), as
  // flamegraph.pl does, so a million-frame profile stays a usable file.
  double min_frame_width = 0.1;
};

// One frame of the merged tree; the root is "all" with every sample.
struct FlameNode {
  std::string name;  // symbol
  std::string dso;   // DsoBasename
  FrameKind kind = FrameKind::kNative;
  uint64_t count = 0;  // samples whose stack passes through this frame
  std::vector<FlameNode> children;  // sorted by name, then dso
};

FlameNode BuildFlameTree(const std::vector<Sample>& samples);

// Brendan Gregg's folded format, one "root;...;leaf COUNT" line per distinct
// stack, sorted; JIT frames end in "_[j]" and kernel frames in "_[k]"
// (stackcollapse-perf.pl --all), so flamegraph.pl --color=java reads it.
std::string FoldStacks(const std::vector<Sample>& samples);

std::string RenderFlameGraphSvg(const std::vector<Sample>& samples, const FlameGraphOptions& options);

// Text made safe for XML character data and attribute values: & < > " '
// escaped, control characters and invalid UTF-8 replaced by '?'.
std::string EscapeXml(std::string_view text);

// Writes `contents` to a temporary file beside `path` and renames it over
// `path`, so readers never see half a file. False with *error naming the
// file on failure (the temporary file is removed).
bool WriteFileAtomically(const std::string& path, std::string_view contents, std::string* error);

}  // namespace jitscope::perf
