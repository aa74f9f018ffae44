#include <cxxabi.h>

#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <cstring>

#include "command.h"
#include "debuginfo/code_event.h"
#include "debuginfo/descriptor_locator.h"
#include "debuginfo/symbolizer.h"
#include "jit_process.h"
#include "unwinder/process_info.h"
#include "unwinder/unwinder.h"

namespace jitscope::cli {
namespace {

constexpr std::string_view kUsage =
    "Usage: jitscope stack PID [--tid TID] [--json] [--max-frames N]\n"
    "\n"
    "Prints the call stack of every thread of a running process (or of thread\n"
    "TID), JIT frames included: each thread is stopped with ptrace for the\n"
    "moment its registers are read and its stack is unwound (DWARF CFI of the\n"
    "native modules and of the JIT's registered symbol files, frame pointers\n"
    "where there is no CFI), then left running (a stopped process stays\n"
    "stopped). One block per thread:\n"
    "  tid 1234 (jitvm)\n"
    "  #00 pc 00007f0123456789  [jit] fib@fib.lua:3+0x1c (fib.lua:4) baseline\n"
    "  #01 pc 000055d0c2a1b2c3  /path/to/jitvm (jitvm::precall+0x42)\n"
    "JIT frames show the Lua source line when the JIT registers full debug info\n"
    "(--jit-debug=full) and the compilation tier when it records one.\n"
    "\n"
    "Options:\n"
    "  --tid TID        only this thread\n"
    "  --json           print JSON instead of text\n"
    "  --max-frames N   stop each stack after N frames (default 256)\n"
    "  --verbose        also say how each frame was found (CFI, frame pointer)\n"
    "\n"
    "Exit status: 0 on success, 1 if the process or thread does not exist or\n"
    "cannot be traced, 2 on a bad command line.\n";

// Above this a stack is a runaway (or a hostile target), not a program.
constexpr size_t kMaxFramesLimit = 1 << 20;

std::string PaddedHex(uint64_t v) {
  std::ostringstream s;
  s << std::hex;
  s.width(16);
  s.fill('0');
  s << v;
  return s.str();
}

const MapEntry* MapFor(const std::vector<MapEntry>& maps, uint64_t pc) {
  for (const MapEntry& m : maps)
    if (pc >= m.start && pc < m.end) return &m;
  return nullptr;
}

struct Described {
  std::optional<SymbolMatch> match;
  uint64_t offset = 0;  // from the function's start to the frame's pc
  std::string module;
};

Described Describe(const Symbolizer& symbolizer, const std::vector<MapEntry>& maps,
                   const std::vector<UnwoundFrame>& frames, size_t i) {
  Described d;
  uint64_t pc = frames[i].pc;
  // A return address may be the first byte after the calling function (a
  // call to a noreturn function ends it): look up the call instead. Frame
  // 0 and a frame interrupted by a signal have the exact pc.
  bool return_address = i > 0 && !frames[i - 1].signal_frame;
  uint64_t lookup = return_address && pc > 0 ? pc - 1 : pc;
  d.match = symbolizer.Lookup(lookup);
  if (d.match) d.offset = pc - d.match->symbol->start;
  if (const MapEntry* m = MapFor(maps, pc)) d.module = m->path;
  if (d.match && !d.match->symbol->jit && !d.match->symbol->module.empty()) d.module = d.match->symbol->module;
  return d;
}

// "jitvm::precall" for "_ZN5jitvm7precallEPNS_5StateEPNS_5ValueEi": the
// parameter list is noise in a stack (overloads are rare in a trace).
std::string DisplayName(const std::string& name) {
  int status = 0;
  char* demangled = abi::__cxa_demangle(name.c_str(), nullptr, nullptr, &status);
  if (status != 0 || demangled == nullptr) return name;
  std::string out(demangled);
  free(demangled);
  // Drop cv-qualifiers of a member function, then the outermost (...) at the end.
  for (const char* suffix : {" const", " volatile", " &&", " &"}) {
    size_t n = strlen(suffix);
    if (out.size() > n && out.compare(out.size() - n, n, suffix) == 0) out.resize(out.size() - n);
  }
  if (!out.empty() && out.back() == ')') {
    int depth = 0;
    for (size_t i = out.size(); i-- > 0;) {
      if (out[i] == ')') depth++;
      if (out[i] == '(' && --depth == 0) {
        if (i > 0) out.resize(i);
        break;
      }
    }
  }
  return out;
}

std::string TierName(const SymbolInfo& s) {
  return s.tier >= 0 ? CodeTierName(static_cast<CodeTier>(s.tier)) : "";
}

std::string FormatFrame(const Described& d, const UnwoundFrame& frame, size_t i, bool verbose) {
  std::ostringstream line;
  line << "#" << (i < 10 ? "0" : "") << i << " pc " << PaddedHex(frame.pc) << "  ";
  if (d.match && d.match->symbol->jit) {
    const SymbolInfo& s = *d.match->symbol;
    line << "[jit] " << s.name << "+0x" << std::hex << d.offset << std::dec;
    if (d.match->source.line) line << " (" << d.match->source.file << ":" << d.match->source.line << ")";
    std::string tier = TierName(s);
    if (!tier.empty()) line << " " << tier;
  } else {
    line << (d.module.empty() ? "??" : d.module);
    if (d.match) line << " (" << DisplayName(d.match->symbol->name) << "+0x" << std::hex << d.offset << std::dec << ")";
  }
  if (frame.signal_frame) line << " [signal frame]";
  if (verbose) line << "  {" << UnwindMethodName(frame.method) << "}";
  return line.str();
}

nlohmann::json FrameJson(const Described& d, const UnwoundFrame& frame, size_t i) {
  nlohmann::json j{{"index", i},
                   {"pc", HexAddress(frame.pc)},
                   {"sp", HexAddress(frame.sp)},
                   {"method", UnwindMethodName(frame.method)},
                   {"signal_frame", frame.signal_frame},
                   {"jit", d.match && d.match->symbol->jit}};
  if (d.match) {
    j["function"] = d.match->symbol->jit ? d.match->symbol->name : DisplayName(d.match->symbol->name);
    if (!d.match->symbol->jit) j["symbol"] = d.match->symbol->name;
    j["offset"] = d.offset;
    j["start"] = HexAddress(d.match->symbol->start);
    std::string tier = TierName(*d.match->symbol);
    if (!tier.empty()) j["tier"] = tier;
    if (d.match->source.line) j["source"] = d.match->source.file + ":" + std::to_string(d.match->source.line);
  }
  j["module"] = d.match && d.match->symbol->jit ? "[jit]" : d.module;
  return j;
}

int Run(const ParsedArgs& args) {
  static const Command* self = FindCommand("stack");
  std::optional<int> pid = ParsePid(args.positionals[0]);
  if (!pid) return UsageError(*self, "'" + args.positionals[0] + "' is not a process id");
  std::optional<pid_t> tid;
  if (std::optional<std::string> t = args.Value("tid")) {
    std::optional<int> parsed = ParsePid(*t);
    if (!parsed) return UsageError(*self, "--tid '" + *t + "' is not a thread id");
    tid = *parsed;
  }
  UnwindOptions options;
  if (std::optional<std::string> n = args.Value("max-frames")) {
    std::optional<int> parsed = ParsePid(*n);  // strictly positive decimal
    if (!parsed || static_cast<size_t>(*parsed) > kMaxFramesLimit)
      return UsageError(*self, "--max-frames '" + *n + "' is not a number from 1 to " + std::to_string(kMaxFramesLimit));
    options.max_frames = static_cast<size_t>(*parsed);
  }
  options.pid = *pid;
  if (!ProcessExists(*pid)) {
    std::cerr << "jitscope stack: process " << *pid << " does not exist\n";
    return kExitFailure;
  }
  // A process without a JIT descriptor still has a native stack.
  Result<std::vector<MapEntry>> maps = ReadProcessMaps(*pid);
  if (!maps) {
    if (!ProcessExists(*pid))
      std::cerr << "jitscope stack: process " << *pid << " exited during the read\n";
    else if (maps.error().find("ermission denied") != std::string::npos)
      std::cerr << "jitscope stack: permission denied reading process " << *pid
                << ": run as the same user as the target (or root), and check /proc/sys/kernel/yama/ptrace_scope "
                   "(1 allows only descendants; set it to 0 or use sudo)\n";
    else
      std::cerr << "jitscope stack: " << maps.error() << "\n";
    return kExitFailure;
  }
  DescriptorLocator locator;
  Result<std::vector<DescriptorLocation>> locations = locator.LocateInMaps(*maps, *pid);
  std::optional<Result<Target>> target;
  JitSnapshot empty;
  const JitSnapshot* jit = &empty;
  if (locations && !locations->empty()) {
    target.emplace(OpenTarget(*pid, "stack"));
    if (!*target) {
      std::cerr << "jitscope stack: " << (*target).error() << "\n";
      return kExitFailure;
    }
    maps = (*target)->maps;
    jit = &(*target)->jit();
  }
  // Re-read the JIT debug info once the threads are stopped: a function
  // compiled since OpenTarget's snapshot may be on a stack (with the process
  // stopped, a Poll with no change is one header read).
  Target* live = target ? &target->value() : nullptr;
  auto snapshot_after_stop = [&]() -> const JitSnapshot& {
    if (live == nullptr) return *jit;
    (void)live->snapshotter->Poll();  // on failure the previous snapshot stands
    jit = &live->jit();
    return *jit;
  };
  Result<std::vector<ThreadStack>> stacks = UnwindLiveProcess(*pid, *maps, snapshot_after_stop, tid, options);
  if (!stacks) {
    std::cerr << "jitscope stack: " << stacks.error() << "\n";
    return kExitFailure;
  }
  Symbolizer symbolizer;
  symbolizer.AddModules(*maps, *pid);
  symbolizer.AddJit(*jit);
  symbolizer.Finish();
  bool json = args.Has("json");
  bool verbose = args.Has("verbose");
  nlohmann::json threads = nlohmann::json::array();
  std::ostringstream text;
  for (const ThreadStack& stack : *stacks) {
    nlohmann::json frames = nlohmann::json::array();
    text << "tid " << stack.tid << " (" << stack.name << ")\n";
    if (!stack.error.empty()) text << "  error: " << stack.error << "\n";
    for (size_t i = 0; i < stack.frames.size(); i++) {
      Described d = Describe(symbolizer, *maps, stack.frames, i);
      if (json)
        frames.push_back(FrameJson(d, stack.frames[i], i));
      else
        text << FormatFrame(d, stack.frames[i], i, verbose) << "\n";
    }
    if (stack.error.empty() && !stack.complete) text << "  (unwind stopped: " << stack.stop_reason << ")\n";
    text << "\n";
    nlohmann::json t{{"tid", stack.tid}, {"name", stack.name}, {"frames", std::move(frames)}};
    if (!stack.error.empty()) t["error"] = stack.error;
    t["complete"] = stack.complete;
    t["stop_reason"] = stack.stop_reason;
    threads.push_back(std::move(t));
  }
  if (json) {
    std::string comm = ReadProcessComm(*pid);
    std::cout << nlohmann::json{{"pid", *pid}, {"comm", comm}, {"threads", std::move(threads)}}.dump(2) << "\n";
  } else {
    std::cout << text.str();
  }
  return kExitOk;
}

const Command kStackCommand{
    .name = "stack",
    .summary = "Print the native and JIT call stack of every thread of a running process",
    .usage = kUsage,
    .options = {{.name = "tid", .takes_value = true},
                {.name = "json"},
                {.name = "max-frames", .takes_value = true},
                {.name = "verbose"}},
    .min_positionals = 1,
    .max_positionals = 1,
    .run = Run,
};
JITSCOPE_REGISTER_COMMAND(kStackCommand);

}  // namespace
}  // namespace jitscope::cli
