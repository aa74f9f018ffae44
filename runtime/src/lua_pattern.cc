#include "lua_pattern.h"

#include <cctype>
#include <cstring>

namespace jitvm {

namespace {

constexpr char kEsc = '%';

int uchar(char c) { return static_cast<unsigned char>(c); }

[[noreturn]] void fail(const char* msg) { throw PatternError{msg}; }

}  // namespace

bool pattern_class_match(int c, int cl) {
  bool res;
  switch (std::tolower(cl)) {
    case 'a': res = std::isalpha(c); break;
    case 'c': res = std::iscntrl(c); break;
    case 'd': res = std::isdigit(c); break;
    case 'l': res = std::islower(c); break;
    case 'p': res = std::ispunct(c); break;
    case 's': res = std::isspace(c); break;
    case 'u': res = std::isupper(c); break;
    case 'w': res = std::isalnum(c); break;
    case 'x': res = std::isxdigit(c); break;
    case 'z': res = (c == 0); break;
    default: return cl == c;
  }
  return std::isupper(cl) ? !res : res;
}

PatternMatcher::PatternMatcher(const char* subject, size_t subject_len, const char* pattern,
                               size_t pattern_len)
    : src_(subject), src_end_(subject + subject_len), pat_(pattern),
      pat_end_(pattern + strnlen(pattern, pattern_len)) {}

// Pattern bytes are read through at(): past the end it yields NUL, which is
// exactly what Lua 5.1 sees when it walks its NUL-terminated pattern.
#define PAT_AT(p) ((p) < pat_end_ ? uchar(*(p)) : 0)

const char* PatternMatcher::class_end(const char* p) {
  int c = PAT_AT(p);
  p++;
  if (c == kEsc) {
    if (p >= pat_end_) fail("malformed pattern (ends with '%')");
    return p + 1;
  }
  if (c == '[') {
    if (PAT_AT(p) == '^') p++;
    // Look for a ']'; the first char after '[' (or '[^') is never the end.
    do {
      if (p >= pat_end_) fail("malformed pattern (missing ']')");
      int cc = uchar(*p++);
      if (cc == kEsc && p < pat_end_) p++;
    } while (PAT_AT(p) != ']');
    return p + 1;
  }
  return p;
}

bool PatternMatcher::match_bracket_class(int c, const char* p, const char* ec) const {
  bool sig = true;
  if (PAT_AT(p + 1) == '^') {
    sig = false;
    p++;
  }
  while (++p < ec) {
    if (*p == kEsc) {
      p++;
      if (pattern_class_match(c, PAT_AT(p))) return sig;
    } else if (PAT_AT(p + 1) == '-' && p + 2 < ec) {
      p += 2;
      if (uchar(*(p - 2)) <= c && c <= uchar(*p)) return sig;
    } else if (uchar(*p) == c) {
      return sig;
    }
  }
  return !sig;
}

bool PatternMatcher::single_match(int c, const char* p, const char* ep) const {
  switch (PAT_AT(p)) {
    case '.': return true;
    case kEsc: return pattern_class_match(c, PAT_AT(p + 1));
    case '[': return match_bracket_class(c, p, ep - 1);
    default: return PAT_AT(p) == c;
  }
}

const char* PatternMatcher::max_expand(const char* s, const char* p, const char* ep) {
  ptrdiff_t i = 0;
  while (s + i < src_end_ && single_match(uchar(s[i]), p, ep)) i++;
  // Greedy: try the longest repetition first, then back off one at a time.
  for (; i >= 0; i--) {
    if (const char* res = match(s + i, ep + 1)) return res;
  }
  return nullptr;
}

const char* PatternMatcher::min_expand(const char* s, const char* p, const char* ep) {
  for (;;) {
    if (const char* res = match(s, ep + 1)) return res;
    if (s < src_end_ && single_match(uchar(*s), p, ep)) {
      s++;
    } else {
      return nullptr;
    }
  }
}

const char* PatternMatcher::start_capture(const char* s, const char* p, ptrdiff_t what) {
  if (level_ >= kMaxCaptures) fail("too many captures");
  cap_[level_].init = s;
  cap_[level_].len = what;
  level_++;
  const char* res = match(s, p);
  if (res == nullptr) level_--;
  return res;
}

int PatternMatcher::capture_to_close() {
  int l = level_ - 1;
  for (; l >= 0; l--) {
    if (cap_[l].len == kUnfinished) return l;
  }
  fail("invalid pattern capture");
}

const char* PatternMatcher::end_capture(const char* s, const char* p) {
  int l = capture_to_close();
  cap_[l].len = s - cap_[l].init;
  const char* res = match(s, p);
  if (res == nullptr) cap_[l].len = kUnfinished;
  return res;
}

const char* PatternMatcher::match_balance(const char* s, const char* p) {
  if (p >= pat_end_ || p + 1 >= pat_end_) fail("unbalanced pattern");
  if (s >= src_end_ || *s != *p) return nullptr;
  int open = uchar(p[0]);
  int close = uchar(p[1]);
  int depth = 1;
  while (++s < src_end_) {
    if (uchar(*s) == close) {
      if (--depth == 0) return s + 1;
    } else if (uchar(*s) == open) {
      depth++;
    }
  }
  return nullptr;
}

int PatternMatcher::check_capture(int l) {
  l -= '1';
  if (l < 0 || l >= level_ || cap_[l].len == kUnfinished) fail("invalid capture index");
  return l;
}

const char* PatternMatcher::match_capture(const char* s, int l) {
  l = check_capture(l);
  ptrdiff_t len = cap_[l].len;
  // A position capture has no text: Lua compares (size_t)-2 bytes and fails.
  if (len < 0) return nullptr;
  if (src_end_ - s >= len && std::memcmp(cap_[l].init, s, static_cast<size_t>(len)) == 0) {
    return s + len;
  }
  return nullptr;
}

thread_local int64_t* tls_pattern_budget = nullptr;

const char* PatternMatcher::match(const char* s, const char* p) {
  if (__builtin_expect(tls_pattern_budget != nullptr, 0) && --*tls_pattern_budget < 0)
    throw PatternError{"pattern budget exhausted"};
  struct DepthGuard {
    int& d;
    explicit DepthGuard(int& depth) : d(depth) {
      if (++d > kMaxMatchDepth) {
        d = 0;
        fail("pattern too complex");
      }
    }
    ~DepthGuard() {
      if (d > 0) d--;
    }
  } guard(depth_);

  for (;;) {
    if (p >= pat_end_) return s;  // end of pattern
    switch (uchar(*p)) {
      case '(':
        if (PAT_AT(p + 1) == ')') return start_capture(s, p + 2, kPosition);
        return start_capture(s, p + 1, kUnfinished);
      case ')':
        return end_capture(s, p + 1);
      case '$':
        if (p + 1 == pat_end_) return s == src_end_ ? s : nullptr;
        break;  // an ordinary '$'
      case kEsc: {
        int next = PAT_AT(p + 1);
        if (next == 'b') {
          s = match_balance(s, p + 2);
          if (s == nullptr) return nullptr;
          p += 4;
          continue;
        }
        if (next == 'f') {
          p += 2;
          if (PAT_AT(p) != '[') fail("missing '[' after '%f' in pattern");
          const char* ep = class_end(p);
          int prev = (s == src_) ? 0 : uchar(*(s - 1));
          int cur = (s < src_end_) ? uchar(*s) : 0;
          if (match_bracket_class(prev, p, ep - 1) || !match_bracket_class(cur, p, ep - 1)) {
            return nullptr;
          }
          p = ep;
          continue;
        }
        if (std::isdigit(next)) {
          s = match_capture(s, next);
          if (s == nullptr) return nullptr;
          p += 2;
          continue;
        }
        break;  // a class like %a: handled as a single-char item below
      }
      default:
        break;
    }
    // A single-character class, possibly followed by a quantifier.
    const char* ep = class_end(p);
    bool m = s < src_end_ && single_match(uchar(*s), p, ep);
    switch (PAT_AT(ep)) {
      case '?': {
        if (m) {
          if (const char* res = match(s + 1, ep + 1)) return res;
        }
        p = ep + 1;
        continue;
      }
      case '*':
        return max_expand(s, p, ep);
      case '+':
        return m ? max_expand(s + 1, p, ep) : nullptr;
      case '-':
        return min_expand(s, p, ep);
      default:
        if (!m) return nullptr;
        s++;
        p = ep;
        continue;
    }
  }
}

#undef PAT_AT

bool PatternMatcher::match_here(size_t at, size_t pattern_offset, size_t* end) {
  level_ = 0;
  depth_ = 0;
  const char* e = match(src_ + at, pat_ + pattern_offset);
  if (e == nullptr) return false;
  *end = static_cast<size_t>(e - src_);
  return true;
}

bool PatternMatcher::find(size_t init, size_t* start, size_t* end) {
  size_t poff = 0;
  bool anchor = pat_ < pat_end_ && *pat_ == '^';
  if (anchor) poff = 1;
  size_t len = subject_len();
  size_t s1 = init;
  do {
    if (match_here(s1, poff, end)) {
      *start = s1;
      return true;
    }
  } while (s1++ < len && !anchor);
  return false;
}

CaptureSpan PatternMatcher::capture(int i) const {
  const Cap& c = cap_[i];
  if (c.len == kUnfinished) fail("unfinished capture");
  size_t start = static_cast<size_t>(c.init - src_);
  if (c.len == kPosition) return CaptureSpan{kCapPosition, start, 0};
  return CaptureSpan{kCapString, start, static_cast<size_t>(c.len)};
}

std::string PatternMatcher::capture_string(int i) const {
  CaptureSpan c = capture(i);
  return std::string(src_ + c.start, c.len);
}

}  // namespace jitvm
