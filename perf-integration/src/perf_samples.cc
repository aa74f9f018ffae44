#include "perf_integration/perf_samples.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <utility>

namespace jitscope::perf {
namespace {

// perf script on a large recording (minutes of -g samples) takes tens of
// seconds; more than this means perf is stuck (e.g. on a symbol server).
constexpr int kPerfScriptTimeoutMs = 300 * 1000;
// Every sample is held in memory for the report; past this we refuse
// rather than exhaust memory (about 10 million callchain samples).
constexpr size_t kMaxPerfScriptOutputBytes = size_t{2} << 30;
// Only the gist of perf's complaints goes into our one-line error.
constexpr size_t kMaxStderrBytes = 64 * 1024;
constexpr size_t kMaxErrorDetailChars = 300;
// perf prints the odd line that is not a sample (warnings on stdout, other
// event formats); more than this share of unreadable lines means the text
// is not perf script output at all.
constexpr size_t kMaxBadLinePercent = 50;
// The lowest kernel address on x86-64 and arm64 (the upper canonical half).
constexpr uint64_t kKernelSpaceStart = 0xffff800000000000ull;
constexpr size_t kMaxQuotedLineChars = 80;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool IsHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool ParseInt(std::string_view s, int* out) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return !s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// "4559/4561" (perf prints -1 for samples without a task).
bool ParsePidTid(std::string_view token, int* pid, int* tid) {
  size_t slash = token.find('/');
  if (slash == std::string_view::npos) return false;
  return ParseInt(token.substr(0, slash), pid) && ParseInt(token.substr(slash + 1), tid);
}

// "262.288320354:" -> ns; the fraction is nanoseconds with --ns and
// microseconds without, so it is scaled by its digit count.
bool ParseTime(std::string_view token, uint64_t* ns) {
  if (!token.ends_with(':')) return false;
  token.remove_suffix(1);
  size_t dot = token.find('.');
  if (dot == std::string_view::npos) return false;
  std::string_view sec = token.substr(0, dot);
  std::string_view frac = token.substr(dot + 1);
  if (!AllDigits(sec) || !AllDigits(frac) || sec.size() > 11) return false;
  uint64_t seconds = 0;
  std::from_chars(sec.data(), sec.data() + sec.size(), seconds);
  uint64_t fraction = 0;
  for (size_t i = 0; i < 9; i++) fraction = fraction * 10 + (i < frac.size() ? uint64_t(frac[i] - '0') : 0);
  *ns = seconds * 1000000000ull + fraction;
  return true;
}

// perf's "+0x1f" symbol offset (present with -F +symoff).
std::string_view StripSymbolOffset(std::string_view sym) {
  size_t plus = sym.rfind("+0x");
  if (plus == std::string_view::npos || plus == 0 || plus + 3 == sym.size()) return sym;
  std::string_view digits = sym.substr(plus + 3);
  if (!std::all_of(digits.begin(), digits.end(), IsHex)) return sym;
  return sym.substr(0, plus);
}

// "ADDR SYM (DSO)", already trimmed. DSO is the last balanced parenthesised
// group, so "operator()(int) const (/lib/x.so)" and
// "/memfd:jit-cache (deleted)" both come out whole.
bool ParseFrame(std::string_view s, Frame* frame) {
  size_t addr_end = 0;
  while (addr_end < s.size() && !IsSpace(s[addr_end])) addr_end++;
  std::string_view addr = s.substr(0, addr_end);
  if (addr.starts_with("0x")) addr.remove_prefix(2);
  if (addr.empty() || addr.size() > 16 || !std::all_of(addr.begin(), addr.end(), IsHex)) return false;
  uint64_t ip = 0;
  std::from_chars(addr.data(), addr.data() + addr.size(), ip, 16);
  std::string_view rest = Trim(s.substr(addr_end));
  if (rest.empty() || rest.back() != ')') return false;
  int depth = 0;
  size_t open = std::string_view::npos;
  for (size_t i = rest.size(); i-- > 0;) {
    if (rest[i] == ')') {
      depth++;
    } else if (rest[i] == '(' && --depth == 0) {
      open = i;
      break;
    }
  }
  if (open == std::string_view::npos) return false;
  // perf separates the symbol from "(DSO)" by a space; without one the
  // parenthesis belongs to the symbol and the DSO is missing.
  if (open > 0 && !IsSpace(rest[open - 1])) return false;
  std::string_view dso = Trim(rest.substr(open + 1, rest.size() - open - 2));
  std::string_view sym = StripSymbolOffset(Trim(rest.substr(0, open)));
  frame->ip = ip;
  frame->symbol = sym.empty() ? std::string(kUnknown) : std::string(sym);
  frame->dso = dso.empty() ? std::string(kUnknown) : std::string(dso);
  return true;
}

struct Token {
  std::string_view text;
  size_t offset;
};

std::vector<Token> Tokenize(std::string_view line) {
  std::vector<Token> tokens;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && IsSpace(line[i])) i++;
    size_t start = i;
    while (i < line.size() && !IsSpace(line[i])) i++;
    if (i > start) tokens.push_back({line.substr(start, i - start), start});
  }
  return tokens;
}

bool IsCpuToken(std::string_view t) {
  return t.size() > 2 && t.front() == '[' && t.back() == ']' && AllDigits(t.substr(1, t.size() - 2));
}

enum class HeaderKind { kNone, kCallchainHeader, kOneLine };

// "COMM  PID/TID  [CPU]  SEC.NSEC:" and, without callchains, the frame after
// it. COMM may contain spaces ("Web Content"), so we look for the first
// PID/TID token followed by a time token rather than splitting by columns.
HeaderKind ParseHeader(std::string_view line, Sample* sample) {
  std::vector<Token> tokens = Tokenize(line);
  for (size_t i = 0; i + 1 < tokens.size(); i++) {
    int pid = 0;
    int tid = 0;
    if (!ParsePidTid(tokens[i].text, &pid, &tid)) continue;
    size_t t = i + 1;
    if (t < tokens.size() && IsCpuToken(tokens[t].text)) t++;
    uint64_t ns = 0;
    if (t >= tokens.size() || !ParseTime(tokens[t].text, &ns)) continue;
    sample->comm = std::string(Trim(line.substr(0, tokens[i].offset)));
    sample->pid = pid;
    sample->tid = tid;
    sample->time_ns = ns;
    std::string_view rest = Trim(line.substr(tokens[t].offset + tokens[t].text.size()));
    if (rest.empty()) return HeaderKind::kCallchainHeader;
    Frame frame;
    if (!ParseFrame(rest, &frame)) return HeaderKind::kNone;
    sample->frames.push_back(std::move(frame));
    return HeaderKind::kOneLine;
  }
  return HeaderKind::kNone;
}

void Finish(Sample* sample, std::vector<Sample>* out) {
  // A callchain perf could not unwind at all still is a sample.
  if (sample->frames.empty()) sample->frames.push_back(Frame{0, std::string(kUnknown), std::string(kUnknown)});
  out->push_back(std::move(*sample));
  *sample = Sample{};
}

std::string Quote(std::string_view line) {
  line = Trim(line);
  std::string quoted(line.substr(0, kMaxQuotedLineChars));
  for (char& c : quoted)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  if (line.size() > kMaxQuotedLineChars) quoted += "...";
  return "'" + quoted + "'";
}

// perf's stderr, folded onto one line for our error message.
std::string OneLine(std::string_view text) {
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = Trim(text.substr(start, end - start));
    if (!line.empty()) {
      if (!out.empty()) out += out.back() == ':' ? " " : "; ";
      out += line;
    }
    start = end + 1;
  }
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  if (out.size() > kMaxErrorDetailChars) out = out.substr(0, kMaxErrorDetailChars) + "...";
  return out;
}

// perf.data's own header (perf_file_header in tools/perf/util/header.h):
// the magic, the header's size, the attr size, then the attrs, data and
// event-type sections as {offset, size}. We only read up to the data one.
constexpr size_t kPerfHeaderThroughDataSection = 56;
constexpr size_t kPerfHeaderDataOffsetAt = 40;
constexpr size_t kPerfHeaderDataSizeAt = 48;

// After perf script failed: whether FILE is shorter than its own header
// says, as a recording cut short (a full disk, a copy interrupted) leaves
// it. perf 6.1 reads the samples through mmap without checking the file's
// size, so it then chokes on the zeros past the end ("failed to process
// type") or dies of SIGBUS (past the last page), saying nothing that names
// the cause. Empty when the file looks whole or is not a perf.data file
// with sections (garbage, the pipe format).
std::string TruncationNote(const std::string& file) {
  int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  unsigned char h[kPerfHeaderThroughDataSection];
  struct stat st;
  bool read_ok = fstat(fd, &st) == 0 && pread(fd, h, sizeof(h), 0) == ssize_t(sizeof(h));
  close(fd);
  if (!read_ok) return "";
  // perf writes the 64-bit magic "PERFILE2" in its own byte order.
  bool little_endian;
  if (memcmp(h, "PERFILE2", 8) == 0) {
    little_endian = true;
  } else if (memcmp(h, "2ELIFREP", 8) == 0) {
    little_endian = false;
  } else {
    return "";
  }
  auto u64 = [&](size_t at) {
    uint64_t v = 0;
    for (size_t i = 0; i < 8; i++) v |= uint64_t(h[at + (little_endian ? i : 7 - i)]) << (8 * i);
    return v;
  };
  if (u64(8) < kPerfHeaderThroughDataSection) return "";  // the pipe format's header has no sections
  uint64_t data_offset = u64(kPerfHeaderDataOffsetAt);
  uint64_t data_size = u64(kPerfHeaderDataSizeAt);
  if (data_size > UINT64_MAX - data_offset) return "";
  uint64_t data_end = data_offset + data_size;
  uint64_t file_size = uint64_t(st.st_size);
  if (data_end <= file_size) return "";
  return "the file is truncated (" + std::to_string(file_size) + " bytes; its header puts the end of the samples at byte " +
         std::to_string(data_end) + ")";
}

int64_t NowMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

void CloseFd(int* fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

}  // namespace

std::vector<Sample> ParsePerfScript(std::string_view text, ParseStats* stats) {
  ParseStats local;
  ParseStats& st = stats != nullptr ? *stats : local;
  st = ParseStats{};
  std::vector<Sample> samples;
  Sample current;
  bool in_callchain = false;
  size_t line_number = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    line_number++;
    if (Trim(line).empty()) {
      if (in_callchain) Finish(&current, &samples);
      in_callchain = false;
      continue;
    }
    st.lines++;
    // perf indents callchain frames with a tab; header lines start with the
    // (right-aligned, so maybe space-padded) comm.
    bool tab_indented = line.front() == '\t';
    if (!tab_indented) {
      Sample header;
      HeaderKind kind = ParseHeader(line, &header);
      if (kind != HeaderKind::kNone) {
        if (in_callchain) Finish(&current, &samples);
        in_callchain = false;
        if (kind == HeaderKind::kOneLine) {
          samples.push_back(std::move(header));
        } else {
          current = std::move(header);
          current.has_callchain = true;
          in_callchain = true;
        }
        continue;
      }
    }
    Frame frame;
    if (in_callchain && ParseFrame(Trim(line), &frame)) {
      current.frames.push_back(std::move(frame));
      continue;
    }
    st.bad_lines++;
    if (st.first_bad_line_number == 0) {
      st.first_bad_line_number = line_number;
      st.first_bad_line = std::string(line);
    }
  }
  if (in_callchain) Finish(&current, &samples);  // output cut short
  return samples;
}

std::string_view DsoBasename(std::string_view dso) {
  if (dso.starts_with('[')) return dso;
  // "/memfd:jit-cache (deleted)": the suffix has no slash, the path does.
  size_t slash = dso.rfind('/');
  if (slash == std::string_view::npos || slash + 1 == dso.size()) return dso;
  return dso.substr(slash + 1);
}

const char* FrameKindName(FrameKind kind) {
  switch (kind) {
    case FrameKind::kJit:
      return "jit";
    case FrameKind::kKernel:
      return "kernel";
    case FrameKind::kNative:
      break;
  }
  return "native";
}

FrameKind ClassifyFrame(const Frame& frame) {
  std::string_view dso = frame.dso;
  std::string_view base = DsoBasename(dso);
  // prefix, then digits and dashes ("4559-12"), then suffix.
  auto digits_between = [](std::string_view s, std::string_view prefix, std::string_view suffix) {
    if (s.size() <= prefix.size() + suffix.size() || !s.starts_with(prefix) || !s.ends_with(suffix)) return false;
    std::string_view middle = s.substr(prefix.size(), s.size() - prefix.size() - suffix.size());
    return std::all_of(middle.begin(), middle.end(), [](char c) { return (c >= '0' && c <= '9') || c == '-'; });
  };
  // perf inject --jit writes jitted-PID-N.so; perf map samples show the map
  // file (older perf) or "[JIT] tid N" (newer); our code cache is a memfd.
  if (digits_between(base, "jitted-", ".so") || digits_between(base, "perf-", ".map") || dso.starts_with("[JIT]") ||
      dso.find("memfd:jit-cache") != std::string_view::npos || dso == "//anon") {
    return FrameKind::kJit;
  }
  if (frame.ip >= kKernelSpaceStart || dso.starts_with("[kernel") || dso.starts_with("[guest.kernel") ||
      base.ends_with(".ko") || base.find(".ko.") != std::string_view::npos) {
    return FrameKind::kKernel;
  }
  return FrameKind::kNative;
}

bool FindPerfDataFile(const std::string& dir, std::string* file, std::string* error) {
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) {
    *error = dir + ": " + strerror(errno);
    return false;
  }
  if (!S_ISDIR(st.st_mode)) {
    *error = dir + ": not a directory (expected a recording directory with perf.data)";
    return false;
  }
  for (const char* name : {"perf.jit.data", "perf.data"}) {
    std::string candidate = dir + "/" + name;
    if (stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      *file = candidate;
      return true;
    }
  }
  *error = dir + ": no perf.jit.data or perf.data in this directory";
  return false;
}

bool RunPerfScript(const std::string& file, std::string* output, std::string* error) {
  output->clear();
  // JITSCOPE_PERF names another perf binary (a perf built from source,
  // or a stand-in in tests); otherwise "perf" is looked up in PATH.
  const char* override_perf = getenv("JITSCOPE_PERF");
  std::string perf = override_perf != nullptr && *override_perf != '\0' ? override_perf : "perf";
  std::vector<std::string> args = {perf, "script", "-i", file, "-F", "comm,pid,tid,time,ip,sym,dso", "--ns"};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int out_pipe[2] = {-1, -1};
  int err_pipe[2] = {-1, -1};
  int exec_pipe[2] = {-1, -1};  // the child writes errno here if exec fails
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0 || pipe2(exec_pipe, O_CLOEXEC) != 0) {
    *error = "cannot run perf script on " + file + ": pipe: " + strerror(errno);
    for (int* fd : {&out_pipe[0], &out_pipe[1], &err_pipe[0], &err_pipe[1], &exec_pipe[0], &exec_pipe[1]}) CloseFd(fd);
    return false;
  }
  pid_t pid = fork();
  if (pid < 0) {
    *error = "cannot run perf script on " + file + ": fork: " + strerror(errno);
    for (int* fd : {&out_pipe[0], &out_pipe[1], &err_pipe[0], &err_pipe[1], &exec_pipe[0], &exec_pipe[1]}) CloseFd(fd);
    return false;
  }
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    dup2(out_pipe[1], STDOUT_FILENO);
    dup2(err_pipe[1], STDERR_FILENO);
    execvp(argv[0], argv.data());
    int err = errno;
    ssize_t ignored = write(exec_pipe[1], &err, sizeof(err));
    (void)ignored;
    _exit(127);
  }
  CloseFd(&out_pipe[1]);
  CloseFd(&err_pipe[1]);
  CloseFd(&exec_pipe[1]);

  std::string err_text;
  bool timed_out = false;
  bool too_big = false;
  int64_t deadline = NowMs() + kPerfScriptTimeoutMs;
  char buf[64 * 1024];
  while (out_pipe[0] >= 0 || err_pipe[0] >= 0) {
    pollfd fds[2];
    nfds_t n = 0;
    if (out_pipe[0] >= 0) fds[n++] = {out_pipe[0], POLLIN, 0};
    if (err_pipe[0] >= 0) fds[n++] = {err_pipe[0], POLLIN, 0};
    int64_t left = deadline - NowMs();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    int ready = poll(fds, n, int(std::min<int64_t>(left, 1000)));
    if (ready < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (nfds_t i = 0; i < n; i++) {
      if (fds[i].revents == 0) continue;
      ssize_t got = read(fds[i].fd, buf, sizeof(buf));
      if (got < 0 && errno == EINTR) continue;
      bool is_out = fds[i].fd == out_pipe[0];
      if (got <= 0) {
        CloseFd(is_out ? &out_pipe[0] : &err_pipe[0]);
        continue;
      }
      if (is_out) {
        if (output->size() + size_t(got) > kMaxPerfScriptOutputBytes) {
          too_big = true;
          break;
        }
        output->append(buf, size_t(got));
      } else if (err_text.size() < kMaxStderrBytes) {
        err_text.append(buf, std::min(size_t(got), kMaxStderrBytes - err_text.size()));
      }
    }
    if (too_big) break;
  }
  CloseFd(&out_pipe[0]);
  CloseFd(&err_pipe[0]);
  if (timed_out || too_big) kill(pid, SIGKILL);  // only the child we started
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  int exec_errno = 0;
  bool exec_failed = read(exec_pipe[0], &exec_errno, sizeof(exec_errno)) == ssize_t(sizeof(exec_errno));
  CloseFd(&exec_pipe[0]);

  std::string detail = OneLine(err_text);
  if (exec_failed) {
    *error = "cannot run '" + perf + "' for " + file + ": " + strerror(exec_errno) +
             (exec_errno == ENOENT ? " (install perf, e.g. linux-perf or linux-tools)" : "");
  } else if (timed_out) {
    *error = "perf script on " + file + " did not finish within " + std::to_string(kPerfScriptTimeoutMs / 1000) + " s";
  } else if (too_big) {
    *error = "perf script on " + file + " printed more than " + std::to_string(kMaxPerfScriptOutputBytes >> 20) +
             " MiB; record fewer samples (lower -F or a shorter run)";
  } else if (WIFSIGNALED(status) || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    // perf crashing on bad data (SIGBUS on a truncated file, SIGSEGV on a
    // corrupt one) is the same failure as perf rejecting it, so it gets the
    // same message; the file's own header may say what is wrong with it.
    std::string how;
    if (WIFSIGNALED(status)) {
      const char* name = strsignal(WTERMSIG(status));
      how = "killed by signal " + std::to_string(WTERMSIG(status)) + (name != nullptr ? std::string(", ") + name : "");
    } else {
      how = "exit " + std::to_string(WEXITSTATUS(status));
    }
    *error = "perf script failed on " + file + " (" + how + ")";
    std::string truncated = TruncationNote(file);
    if (!truncated.empty()) *error += ": " + truncated;
    if (!detail.empty()) *error += (truncated.empty() ? ": " : "; ") + detail;
  } else {
    return true;
  }
  output->clear();
  return false;
}

bool ReadRecording(const std::string& dir, std::vector<Sample>* samples, std::string* error, std::string* file_used) {
  samples->clear();
  std::string file;
  if (!FindPerfDataFile(dir, &file, error)) return false;
  if (file_used != nullptr) *file_used = file;
  std::string text;
  if (!RunPerfScript(file, &text, error)) return false;
  ParseStats stats;
  std::vector<Sample> parsed = ParsePerfScript(text, &stats);
  if ((parsed.empty() && stats.lines > 0) || stats.bad_lines * 100 > stats.lines * kMaxBadLinePercent) {
    *error = file + ": perf script output is not samples we can read (line " +
             std::to_string(stats.first_bad_line_number) + ": " + Quote(stats.first_bad_line) + ")";
    return false;
  }
  *samples = std::move(parsed);
  return true;
}

Profile BuildProfile(const std::vector<Sample>& samples) {
  Profile profile;
  profile.samples = samples.size();
  std::map<std::pair<std::string, std::string>, size_t> index;
  auto find = [&](const Frame& frame) {
    std::pair<std::string, std::string> key{frame.symbol, std::string(DsoBasename(frame.dso))};
    auto [it, inserted] = index.emplace(key, profile.functions.size());
    if (inserted) {
      FunctionStats stats;
      stats.name = key.first;
      stats.dso = key.second;
      stats.kind = ClassifyFrame(frame);
      profile.functions.push_back(std::move(stats));
    }
    return it->second;
  };
  std::vector<size_t> seen;
  for (const Sample& sample : samples) {
    if (sample.has_callchain) profile.has_callchains = true;
    if (sample.frames.empty()) continue;
    profile.functions[find(sample.frames.front())].self++;
    // Recursion puts a function in a chain many times; it counts once.
    seen.clear();
    for (const Frame& frame : sample.frames) seen.push_back(find(frame));
    std::sort(seen.begin(), seen.end());
    seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
    for (size_t i : seen) profile.functions[i].total++;
  }
  std::sort(profile.functions.begin(), profile.functions.end(), [](const FunctionStats& a, const FunctionStats& b) {
    if (a.self != b.self) return a.self > b.self;
    if (a.total != b.total) return a.total > b.total;
    if (a.name != b.name) return a.name < b.name;
    return a.dso < b.dso;
  });
  return profile;
}

double Percent(uint64_t part, uint64_t whole) { return whole == 0 ? 0.0 : 100.0 * double(part) / double(whole); }

}  // namespace jitscope::perf
