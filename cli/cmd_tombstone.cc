// `jitscope tombstone FILE`: offline re-unwinding and symbolization.
#include <iostream>
#include <nlohmann/json.hpp>

#include "command.h"
#include "unwinder/tombstone.h"

namespace jitscope::cli {
namespace {

constexpr std::string_view kUsage =
    "Usage: jitscope tombstone FILE [--symbols DIR] [--json]\n"
    "\n"
    "Re-unwinds and symbolizes a tombstone written by a crashing jitvm\n"
    "($JITSCOPE_TOMBSTONE_DIR, default ./tombstones) from the file alone: JIT\n"
    "frames come from the JIT debug info embedded in it, so neither the\n"
    "process nor its machine nor any temporary file is needed. Native frames\n"
    "are symbolized with binaries found by build-id in DIR (or DIR/.build-id),\n"
    "else at their original paths when the build-id still matches.\n"
    "Format: docs/tombstones.md.\n"
    "\n"
    "Options:\n"
    "  --symbols DIR   where to look for native binaries by build-id\n"
    "  --json          machine-readable output\n"
    "\n"
    "Exit status: 0 on success, 1 if the file is not a readable tombstone,\n"
    "2 on a bad command line.\n";

int Run(const ParsedArgs& args) {
  const std::string& path = args.positionals[0];
  Result<Tombstone> loaded = ReadTombstone(path);
  if (!loaded) {
    std::cerr << "jitscope tombstone: " << loaded.error() << "\n";
    return kExitFailure;
  }
  Tombstone& t = *loaded;
  TombstoneFileResolver resolver(t, args.Value("symbols").value_or(""));
  Symbolizer symbolizer;
  AddTombstoneSymbols(t, &resolver, &symbolizer);

  // Re-unwind from the captured stacks; keep the dump-time frames when the
  // capture gives fewer (a thread whose stack could not be copied).
  std::unique_ptr<SnapshotMemory> space = TombstoneAddressSpace(t);
  JitSnapshot empty;
  const JitSnapshot& jit = t.snapshot ? t.snapshot->jit : empty;
  std::vector<bool> reunwound(t.threads.size(), false);
  if (!t.minimal) {
    for (size_t i = 0; i < t.threads.size(); i++) {
      TombstoneThread& th = t.threads[i];
      if (th.regs.rsp == 0 && th.regs.rip == 0) continue;
      UnwindOptions options;
      options.files = &resolver;
      std::string error;
      std::vector<TombstoneFrame> frames = UnwindTombstoneThread(*space, t.maps, jit, th.regs, options, &error);
      if (frames.size() >= th.frames.size()) {
        th.frames = std::move(frames);
        reunwound[i] = true;
      }
    }
  }

  if (args.Has("json")) {
    nlohmann::json threads = nlohmann::json::array();
    for (size_t i = 0; i < t.threads.size(); i++) {
      const TombstoneThread& th = t.threads[i];
      nlohmann::json frames = nlohmann::json::array();
      for (const SymbolizedFrame& f : SymbolizeFrames(th.frames, symbolizer, t.maps)) {
        nlohmann::json j{{"pc", HexAddress(f.pc)}, {"sp", HexAddress(f.sp)}, {"method", f.method},
                         {"jit", f.jit},           {"module", f.module},     {"function", f.function},
                         {"offset", f.offset}};
        if (!f.source.empty()) j["source"] = f.source;
        if (f.skipped) j["skipped"] = f.skipped;
        frames.push_back(std::move(j));
      }
      threads.push_back({{"tid", th.tid},
                         {"name", th.name},
                         {"crashed", th.crashed},
                         {"reunwound", reunwound[i]},
                         {"frames", std::move(frames)}});
    }
    nlohmann::json out{{"file", path},
                       {"version", t.version},
                       {"kind", t.minimal ? "minimal" : "full"},
                       {"pid", t.pid},
                       {"tid", t.tid},
                       {"comm", t.comm},
                       {"signal", {{"number", t.signal}, {"name", SignalName(t.signal)}, {"code", t.si_code},
                                   {"code_name", SignalCodeName(t.signal, t.si_code)},
                                   {"fault_address", HexAddress(t.fault_address)}}},
                       {"signal_time_ns", t.signal_time_ns},
                       {"dump_time_ns", t.dump_time_ns},
                       {"threads", std::move(threads)},
                       {"symbol_problems", symbolizer.problems()}};
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << RenderTombstoneText(t, symbolizer);
  if (t.minimal) std::cout << "\n(minimal tombstone: " << t.minimal_reason << ")\n";
  return kExitOk;
}

const Command kTombstoneCommand{
    .name = "tombstone",
    .summary = "Re-unwind and symbolize a crash tombstone offline",
    .usage = kUsage,
    .options = {{.name = "symbols", .takes_value = true}, {.name = "json"}},
    .min_positionals = 1,
    .max_positionals = 1,
    .run = Run,
};
JITSCOPE_REGISTER_COMMAND(kTombstoneCommand);

}  // namespace
}  // namespace jitscope::cli
