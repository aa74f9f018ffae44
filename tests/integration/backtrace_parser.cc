#include "backtrace_parser.h"

#include <regex>
#include <sstream>

namespace jitscope::integration {
namespace {

// "FILE:LINE" (lldb adds ":COLUMN") at the end of a frame line after " at ".
void ParseLocation(const std::string& text, DebuggerFrame* frame) {
  static const std::regex kLocation(R"( at ([^ :]+):(\d+)(:\d+)?\s*$)");
  std::smatch match;
  if (std::regex_search(text, match, kLocation)) {
    frame->file = match[1];
    frame->line = std::stoi(match[2]);
  }
}

}  // namespace

std::vector<DebuggerFrame> ParseGdbBacktrace(const std::string& output) {
  // The function ends where its argument list starts: " (" is never part
  // of a name gdb prints ("jitvm::(anonymous namespace)::f (L=...)" has no
  // space before its first parenthesis; "operator() (p=...)" does before the
  // arguments only).
  static const std::regex kFrame(R"(^#(\d+)\s+(?:0x[0-9a-fA-F]+ in )?(.+?) \()");
  std::vector<DebuggerFrame> frames;
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    std::smatch match;
    if (!std::regex_search(line, match, kFrame)) continue;
    DebuggerFrame frame;
    frame.index = std::stoi(match[1]);
    if (frame.index == 0) frames.clear();  // a later backtrace replaces an earlier one
    if (frame.index != static_cast<int>(frames.size())) continue;
    frame.function = match[2];
    frame.text = line;
    ParseLocation(line, &frame);
    frames.push_back(frame);
  }
  return frames;
}

std::vector<std::vector<DebuggerFrame>> ParseGdbThreadBacktraces(const std::string& output) {
  std::vector<std::vector<DebuggerFrame>> threads;
  size_t start = output.find("\nThread ");
  while (start != std::string::npos) {
    size_t next = output.find("\nThread ", start + 1);
    std::vector<DebuggerFrame> frames = ParseGdbBacktrace(output.substr(start, next - start));
    if (!frames.empty()) threads.push_back(frames);
    start = next;
  }
  return threads;
}

std::vector<DebuggerFrame> ParseLldbBacktrace(const std::string& output) {
  static const std::regex kFrame(R"(frame #(\d+): 0x[0-9a-fA-F]+ (?:[^`]*`)?(.*)$)");
  std::vector<DebuggerFrame> frames;
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    std::smatch match;
    if (!std::regex_search(line, match, kFrame)) continue;
    DebuggerFrame frame;
    frame.index = std::stoi(match[1]);
    if (frame.index == 0) frames.clear();
    if (frame.index != static_cast<int>(frames.size())) continue;
    std::string rest = match[2];
    size_t end = std::string::npos;
    for (const char* separator : {" + ", " at "}) end = std::min(end, rest.find(separator));
    frame.function = rest.substr(0, end);
    frame.text = line;
    ParseLocation(line, &frame);
    frames.push_back(frame);
  }
  return frames;
}

std::vector<std::string> JitFrameNames(const std::vector<DebuggerFrame>& frames) {
  static const std::regex kJitName(R"(^[^ @]+@[^ @]+:\d+$)");
  std::vector<std::string> names;
  for (const DebuggerFrame& frame : frames) {
    if (std::regex_match(frame.function, kJitName)) names.push_back(frame.function);
  }
  return names;
}

std::string IncompleteUnwindReason(const std::vector<DebuggerFrame>& frames) {
  auto compiled = [](const DebuggerFrame& frame) {
    if (!JitFrameNames({frame}).empty()) return true;
    return frame.file.size() > 4 && frame.file.compare(frame.file.size() - 4, 4, ".lua") == 0;
  };
  auto contains = [](const DebuggerFrame& frame, const char* text) {
    return frame.function.find(text) != std::string::npos;
  };
  size_t last_compiled = frames.size();
  for (size_t i = 0; i < frames.size(); i++) {
    if (!compiled(frames[i])) continue;
    last_compiled = i;
    bool ends_run = i + 1 < frames.size() && !compiled(frames[i + 1]);
    if (i + 1 == frames.size()) return "the backtrace ends in compiled frame #" + std::to_string(i);
    if (ends_run && !contains(frames[i + 1], "jit_run")) {
      return "compiled frame #" + std::to_string(i) + " is not called from jit_run but from '" +
             frames[i + 1].function + "'";
    }
  }
  if (last_compiled == frames.size()) return "no compiled frame at all";
  bool vm_call = false;
  bool vm_main = false;
  for (size_t i = last_compiled + 1; i < frames.size(); i++) {
    vm_call = vm_call || contains(frames[i], "vm_call");
    vm_main = vm_main || contains(frames[i], "real_main") || frames[i].function == "main";
  }
  if (!vm_call) return "no vm_call frame below the compiled frames";
  if (!vm_main) return "no jitvm main frame below the compiled frames";
  const DebuggerFrame& outermost = frames.back();
  for (const char* first : {"clone", "start_thread", "_start", "__libc_start"}) {
    if (contains(outermost, first)) return "";
  }
  return "the outermost frame '" + outermost.function + "' is not a thread's first frame";
}

std::string FormatFrames(const std::vector<DebuggerFrame>& frames) {
  std::string text;
  for (const DebuggerFrame& frame : frames) text += frame.text + "\n";
  return text;
}

}  // namespace jitscope::integration
