#include <iostream>

#include "command.h"
#include "jit_process.h"

namespace jitscope::cli {
namespace {

constexpr std::string_view kUsage =
    "Usage: jitscope snapshot PID -o FILE\n"
    "\n"
    "Writes a self-contained snapshot of a running process's JIT state for\n"
    "offline use: its maps, every GDB JIT descriptor with all registered\n"
    "symbol files and their timestamps, the source descriptor's chunks\n"
    "(source text, for disasm without the files), and the machine code of every\n"
    "registered function. The copy is consistent (seqlock-verified) and the\n"
    "target keeps running. Every command that takes a PID also takes FILE.\n"
    "Format (version 1): docs/cli.md. The file is written atomically.\n"
    "\n"
    "Options:\n"
    "  -o, --output FILE   where to write the snapshot (required)\n"
    "  --stop              freeze the target with ptrace while copying (plain GDB\n"
    "                      descriptors have no seqlock); it runs on afterwards\n"
    "\n"
    "Exit status: 0 on success, 1 if the process cannot be read or the file\n"
    "cannot be written, 2 on a bad command line.\n";

int Run(const ParsedArgs& args) {
  static const Command* self = FindCommand("snapshot");
  std::optional<int> pid = ParsePid(args.positionals[0]);
  if (!pid) return UsageError(*self, "'" + args.positionals[0] + "' is not a process id");
  std::optional<std::string> output = args.Value("output");
  if (!output) output = args.Value("o");
  if (!output || output->empty()) return UsageError(*self, "missing -o FILE");
  Result<Target> target = OpenTarget(*pid, "snapshot", args.Has("stop"));
  if (!target) {
    std::cerr << "jitscope snapshot: " << target.error() << "\n";
    return kExitFailure;
  }
  ProcessSnapshot snap;
  snap.pid = target->pid;
  snap.comm = target->comm;
  snap.maps = target->maps;
  snap.jit = target->snapshotter->snapshot();
  if (target->frozen) snap.jit.synchronized = true;
  if (target->sources) snap.sources = target->sources->snapshot();
  size_t missed = CaptureJitCode(*target->memory, &snap);
  Result<bool> written = WriteSnapshotFile(snap, *output);
  if (!written) {
    std::cerr << "jitscope snapshot: " << written.error() << "\n";
    return kExitFailure;
  }
  JitSnapshot::Totals t = snap.jit.totals();
  uint64_t code_bytes = 0;
  for (const auto& [address, bytes] : snap.code.regions()) code_bytes += bytes.size();
  size_t chunks = 0;
  for (const DescriptorView& d : snap.sources.descriptors) chunks += d.entries.size();
  std::cout << "wrote " << *output << ": process " << snap.pid << " (" << snap.comm << "), " << t.entries
            << " entries, " << t.functions << " functions, " << code_bytes << " bytes of code, " << chunks
            << " source chunks";
  if (missed) std::cout << " (" << missed << " code ranges unreadable)";
  std::cout << "\n";
  return kExitOk;
}

const Command kSnapshotCommand{
    .name = "snapshot",
    .summary = "Write a self-contained snapshot of a process's JIT code and debug info",
    .usage = kUsage,
    .options = {{.name = "stop"}, {.name = "output", .takes_value = true}, {.name = "o", .takes_value = true}},
    .min_positionals = 1,
    .max_positionals = 1,
    .run = Run,
};
JITSCOPE_REGISTER_COMMAND(kSnapshotCommand);

}  // namespace
}  // namespace jitscope::cli
