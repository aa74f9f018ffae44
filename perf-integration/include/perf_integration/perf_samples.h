// Samples of a perf recording, read through the real `perf script` (so perf
// itself resolves symbols, jitted-*.so files after `perf inject --jit`, and
// /tmp/perf-PID.map files), and the per-function self/total aggregation
// behind `jitscope report`.
//
// The text we parse is `perf script -F comm,pid,tid,time,ip,sym,dso --ns`:
//   without callchains, one line per sample:
//     COMM  PID/TID  SEC.NSEC:  ADDR SYM (DSO)
//   with callchains (recorded with -g / --call-graph), a header line, one
//   indented line per frame, leaf first, and a blank line:
//     COMM  PID/TID  SEC.NSEC:
//     \t    ADDR SYM[+OFF] (DSO)
// COMM and SYM may contain spaces and parentheses; DSO is the last
// parenthesised group of a frame line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace jitscope::perf {

// What perf prints when it cannot name a symbol or a DSO.
inline constexpr std::string_view kUnknown = "[unknown]";

struct Frame {
  uint64_t ip = 0;
  std::string symbol;  // without perf's "+0xOFF"; kUnknown when perf has no name
  std::string dso;     // as perf prints it (a path, "[kernel.kallsyms]", kUnknown...)
};

struct Sample {
  std::string comm;
  int pid = 0;
  int tid = 0;
  uint64_t time_ns = 0;
  bool has_callchain = false;  // frames came from a callchain (even a one-frame one)
  std::vector<Frame> frames;   // leaf first; never empty
};

// What the parser could not read, so callers can tell garbage from output.
struct ParseStats {
  size_t lines = 0;      // non-blank lines seen
  size_t bad_lines = 0;  // lines that are neither a sample header nor a frame
  size_t first_bad_line_number = 0;  // 1-based; 0 when there is none
  std::string first_bad_line;
};

// Pure: parses perf script text. Lines it cannot read are skipped and
// counted in *stats; a truncated last sample keeps the frames read so far.
std::vector<Sample> ParsePerfScript(std::string_view text, ParseStats* stats = nullptr);

// "/a/b/libc.so.6" -> "libc.so.6"; bracketed names ("[kernel.kallsyms]",
// "[JIT] tid 7") are returned whole.
std::string_view DsoBasename(std::string_view dso);

enum class FrameKind { kJit, kNative, kKernel };
const char* FrameKindName(FrameKind kind);  // "jit", "native", "kernel"
// JIT: a jitted-PID-N.so (perf inject --jit), a /tmp/perf-PID.map or
// "[JIT]" mapping, memfd:jit-cache, or anonymous executable memory; kernel:
// a kernel address or a [kernel.*] / *.ko DSO; native: everything else.
FrameKind ClassifyFrame(const Frame& frame);

// The file of a recording directory perf script should read: perf.jit.data
// (the output of `perf inject --jit`) when present, else perf.data. False
// with *error naming the directory when it has neither.
bool FindPerfDataFile(const std::string& dir, std::string* file, std::string* error);

// Runs `perf script` on `file` (fork/exec, no shell, with a timeout) and
// returns its stdout. False with a one-line *error naming the file when
// perf is missing, fails, times out, or prints too much.
bool RunPerfScript(const std::string& file, std::string* output, std::string* error);

// FindPerfDataFile + RunPerfScript + ParsePerfScript, rejecting output that
// is mostly not samples. *file_used (if given) is set to the file read.
bool ReadRecording(const std::string& dir, std::vector<Sample>* samples, std::string* error,
                   std::string* file_used = nullptr);

struct FunctionStats {
  std::string name;  // symbol
  std::string dso;   // DsoBasename of the frame's DSO
  FrameKind kind = FrameKind::kNative;
  uint64_t self = 0;   // samples with this function as the leaf
  uint64_t total = 0;  // samples with this function anywhere in the chain, once each
};

struct Profile {
  uint64_t samples = 0;
  bool has_callchains = false;
  // Grouped by (name, dso); sorted by self desc, then total desc, then name.
  std::vector<FunctionStats> functions;
};

Profile BuildProfile(const std::vector<Sample>& samples);

// 100 * part / whole, 0 when whole is 0.
double Percent(uint64_t part, uint64_t whole);

}  // namespace jitscope::perf
