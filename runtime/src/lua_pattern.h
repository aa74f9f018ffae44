// Lua 5.1 pattern matching (the engine behind string.find/match/gmatch/gsub).
//
// Why standalone (no State): the matcher is the part of the string library
// with the most subtle semantics, so it is unit-tested on plain buffers. It
// reports malformed patterns by throwing PatternError; the string library turns
// that into a Lua error with the same message Lua 5.1 gives.
//
// As in Lua 5.1 the pattern ends at its first NUL byte (use %z to match NUL).
#pragma once

#include <cstddef>
#include <string>

namespace jitvm {

// LUA_MAXCAPTURES of Lua 5.1.
constexpr int kMaxCaptures = 32;
// Why a recursion limit at all: Lua 5.1 recurses once per pattern item and
// would overflow the C stack on absurd patterns; a Lua error is kinder.
constexpr int kMaxMatchDepth = 5000;

struct PatternError {
  const char* message;  // e.g. "malformed pattern (ends with '%')"
};

enum CaptureKind : int {
  kCapString = 0,    // a closed capture: bytes [start, start + len)
  kCapPosition = 1,  // a position capture "()": the value is start + 1 (1-based)
};

// One capture, as offsets into the subject.
struct CaptureSpan {
  CaptureKind kind;
  size_t start;
  size_t len;
};

// When not null, every matching step consumes one unit; at zero the match fails
// with PatternError("pattern budget exhausted"). The fuzzer sets it (through the
// VM's instruction budget) because backtracking patterns can take exponential time.
extern thread_local int64_t* tls_pattern_budget;

class PatternMatcher {
 public:
  // `pattern` is used up to its first NUL (or pattern_len), as Lua 5.1 does.
  PatternMatcher(const char* subject, size_t subject_len, const char* pattern, size_t pattern_len);

  // Tries to match the pattern starting at offset `pattern_offset` against the
  // subject at offset `at` (no search). On success returns true and sets
  // *end to the offset just past the match; captures() holds the captures.
  bool match_here(size_t at, size_t pattern_offset, size_t* end);

  // Scans from offset `init` for the first match (honouring a leading '^'
  // anchor). On success sets *start/*end (match is [start, end)).
  bool find(size_t init, size_t* start, size_t* end);

  // Captures of the last successful match. When the pattern has no captures,
  // callers use the whole match (Lua's push_captures convention); whole_match()
  // does that. Throws PatternError("unfinished capture") for a capture that
  // was never closed, as Lua 5.1 does when pushing it.
  int capture_count() const { return level_; }
  CaptureSpan capture(int i) const;
  std::string capture_string(int i) const;  // kCapString captures only

  const char* subject() const { return src_; }
  size_t subject_len() const { return static_cast<size_t>(src_end_ - src_); }

 private:
  struct Cap {
    const char* init;
    ptrdiff_t len;  // >= 0 closed, kUnfinished, kPosition
  };
  static constexpr ptrdiff_t kUnfinished = -1;
  static constexpr ptrdiff_t kPosition = -2;

  const char* match(const char* s, const char* p);
  const char* class_end(const char* p);
  bool single_match(int c, const char* p, const char* ep) const;
  bool match_bracket_class(int c, const char* p, const char* ec) const;
  const char* max_expand(const char* s, const char* p, const char* ep);
  const char* min_expand(const char* s, const char* p, const char* ep);
  const char* start_capture(const char* s, const char* p, ptrdiff_t what);
  const char* end_capture(const char* s, const char* p);
  const char* match_balance(const char* s, const char* p);
  const char* match_capture(const char* s, int l);
  int capture_to_close();
  int check_capture(int l);

  const char* src_;
  const char* src_end_;
  const char* pat_;
  const char* pat_end_;
  int level_ = 0;
  int depth_ = 0;
  Cap cap_[kMaxCaptures];
};

// Lua 5.1's class test for %a %c %d %l %p %s %u %w %x %z (and uppercase
// negations). `cl` is the letter after '%'; other letters match themselves.
bool pattern_class_match(int c, int cl);

}  // namespace jitvm
