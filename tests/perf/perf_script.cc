#include "perf_script.h"

#include <cctype>
#include <map>

namespace jitscope::perf_test {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// "7fa12c000176 sym name (dso (deleted))": the dso is the last balanced
// parenthesised group, because both symbol and dso may contain spaces and
// the dso may contain parentheses ("/memfd:jit-cache (deleted)").
bool ParseFrame(std::string_view text, PerfFrame* frame) {
  text = Trim(text);
  size_t space = text.find(' ');
  std::string_view ip = text.substr(0, space);
  if (ip.empty()) return false;
  frame->ip = 0;
  for (char c : ip) {
    unsigned char u = static_cast<unsigned char>(c);
    if (!std::isxdigit(u)) return false;
    frame->ip = frame->ip * 16 + static_cast<uint64_t>(std::isdigit(u) ? u - '0' : std::tolower(u) - 'a' + 10);
  }
  std::string_view rest = space == std::string_view::npos ? std::string_view() : Trim(text.substr(space));
  frame->dso.clear();
  if (!rest.empty() && rest.back() == ')') {
    int depth = 0;
    for (size_t i = rest.size(); i-- > 0;) {
      if (rest[i] == ')') depth++;
      if (rest[i] == '(' && --depth == 0) {
        frame->dso = std::string(rest.substr(i + 1, rest.size() - i - 2));
        rest = Trim(rest.substr(0, i));
        break;
      }
    }
  }
  frame->sym = std::string(rest);
  return true;
}

// " 5369/5371    324.300324758: <frame or nothing>"
bool ParseHeader(std::string_view line, PerfSample* sample, std::string_view* rest) {
  line = Trim(line);
  size_t slash = line.find('/');
  size_t space = line.find(' ');
  size_t colon = line.find(": ");
  if (colon == std::string_view::npos && !line.empty() && line.back() == ':') colon = line.size() - 1;
  if (slash == std::string_view::npos || space == std::string_view::npos || colon == std::string_view::npos ||
      slash > space || space > colon) {
    return false;
  }
  try {
    sample->pid = std::stoi(std::string(line.substr(0, slash)));
    sample->tid = std::stoi(std::string(line.substr(slash + 1, space - slash - 1)));
    std::string_view time = Trim(line.substr(space, colon - space));
    size_t dot = time.find('.');
    if (dot == std::string_view::npos) return false;
    std::string fraction(time.substr(dot + 1));
    if (fraction.empty() || fraction.size() > 9) return false;
    fraction.resize(9, '0');  // --ns prints 9 digits; be exact either way
    sample->ns = std::stoull(std::string(time.substr(0, dot))) * 1000000000ull + std::stoull(fraction);
  } catch (const std::exception&) {
    return false;
  }
  *rest = colon + 1 < line.size() ? Trim(line.substr(colon + 1)) : std::string_view();
  return true;
}

}  // namespace

bool PerfSample::CallerNamed(const std::string& sym) const {
  for (size_t i = 1; i < frames.size(); i++) {
    if (frames[i].sym == sym) return true;
  }
  return false;
}

std::optional<std::vector<PerfSample>> ParsePerfScript(const std::string& text, std::string* error) {
  std::vector<PerfSample> samples;
  bool in_chain = false;  // the last header had no frame of its own
  size_t start = 0;
  int line_number = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + start, end - start);
    start = end + 1;
    line_number++;
    if (Trim(line).empty()) {
      in_chain = false;
      continue;
    }
    if (line.front() == '\t') {
      PerfFrame frame;
      if (samples.empty() || !ParseFrame(line, &frame)) {
        *error = "perf script line " + std::to_string(line_number) + " is not a frame: " + std::string(line);
        return std::nullopt;
      }
      if (!in_chain) {
        *error = "perf script line " + std::to_string(line_number) + " is a frame of no sample: " + std::string(line);
        return std::nullopt;
      }
      samples.back().frames.push_back(frame);
      continue;
    }
    PerfSample sample;
    std::string_view rest;
    if (!ParseHeader(line, &sample, &rest)) {
      *error = "perf script line " + std::to_string(line_number) + " is not a sample: " + std::string(line);
      return std::nullopt;
    }
    in_chain = rest.empty();
    if (!in_chain) {
      PerfFrame frame;
      if (!ParseFrame(rest, &frame)) {
        *error = "perf script line " + std::to_string(line_number) + " has no 'ip sym (dso)': " + std::string(line);
        return std::nullopt;
      }
      sample.frames.push_back(frame);
    }
    samples.push_back(std::move(sample));
  }
  // perf prints a bare header for a sample whose chain it could not start
  // (no user stack copied): nothing can be attributed then.
  std::erase_if(samples, [](const PerfSample& s) { return s.frames.empty(); });
  return samples;
}

int MostSampledPid(const std::vector<PerfSample>& samples) {
  std::map<int, int> counts;
  for (const PerfSample& s : samples) counts[s.pid]++;
  int best = 0, best_count = 0;
  for (auto [pid, count] : counts) {
    if (count > best_count) best = pid, best_count = count;
  }
  return best;
}

}  // namespace jitscope::perf_test
