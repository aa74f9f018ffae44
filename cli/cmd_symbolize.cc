#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "command.h"
#include "debuginfo/code_event.h"
#include "debuginfo/symbolizer.h"
#include "jit_process.h"

namespace jitscope::cli {
namespace {

constexpr std::string_view kUsage =
    "Usage: jitscope symbolize (PID | SNAPSHOT) [ADDR...] [--json]\n"
    "\n"
    "Names the function at each address (hex, with or without 0x) of a running\n"
    "process: JIT functions from the GDB JIT interface (with source:line when\n"
    "their entry has DWARF lines) and native functions from the ELF files the\n"
    "process maps. Without ADDR arguments, addresses are read from stdin,\n"
    "whitespace separated. One line per address:\n"
    "  0x7f...  fib@fib.lua:3+0x1c  [jit]\n"
    "  0x55...  main+0x10  (/path/to/binary)\n"
    "  0x12...  ??\n"
    "\n"
    "Options:\n"
    "  --stop      freeze the target with ptrace while copying (for plain GDB\n"
    "              descriptors, which have no seqlock); it runs on afterwards\n"
    "  --json      print JSON instead of text\n"
    "  --verbose   also report native files whose symbols could not be read\n"
    "\n"
    "Exit status: 0 on success (unknown addresses print \"??\"), 1 if the process\n"
    "cannot be read, 2 on a bad command line or a malformed address.\n";

int Run(const ParsedArgs& args) {
  static const Command* self = FindCommand("symbolize");
  std::vector<std::string> words(args.positionals.begin() + 1, args.positionals.end());
  if (words.empty()) {
    std::string w;
    while (std::cin >> w) words.push_back(w);
  }
  std::vector<uint64_t> addresses;
  for (const std::string& w : words) {
    std::optional<uint64_t> a = ParseHexAddress(w);
    if (!a) return UsageError(*self, "'" + w + "' is not a hex address");
    addresses.push_back(*a);
  }
  std::optional<Result<Target>> opened = OpenTargetArgument(args.positionals[0], "symbolize", args.Has("stop"));
  if (!opened) return UsageError(*self, "'" + args.positionals[0] + "' is not a process id or a snapshot file");
  Result<Target>& target = *opened;
  if (!target) {
    std::cerr << "jitscope symbolize: " << target.error() << "\n";
    return kExitFailure;
  }
  Symbolizer symbolizer;
  // Offline, native files are read from their original paths if present.
  symbolizer.AddModules(target->maps, target->offline ? 0 : target->pid);
  symbolizer.AddJit(target->jit());
  symbolizer.Finish();
  bool json = args.Has("json");
  if (args.Has("verbose"))
    for (const std::string& p : symbolizer.problems()) std::cerr << "jitscope symbolize: warning: " << p << "\n";
  nlohmann::json out = nlohmann::json::array();
  for (uint64_t a : addresses) {
    std::optional<SymbolMatch> m = symbolizer.Lookup(a);
    if (json) {
      nlohmann::json j{{"address", HexAddress(a)}};
      if (m) {
        j["function"] = m->symbol->name;
        j["offset"] = m->offset;
        j["start"] = HexAddress(m->symbol->start);
        j["size"] = m->symbol->size;
        j["module"] = m->symbol->module;
        j["jit"] = m->symbol->jit;
        if (m->symbol->jit) {
          j["layout"] = SymfileKindName(m->symbol->kind);
          j["entry"] = HexAddress(m->symbol->entry);
          j["registered_ns"] = m->symbol->timestamp;
          if (m->symbol->tier >= 0) j["tier"] = CodeTierName(static_cast<CodeTier>(m->symbol->tier));
        }
        if (m->source.line) j["source"] = m->source.file + ":" + std::to_string(m->source.line);
      }
      out.push_back(std::move(j));
      continue;
    }
    std::ostringstream line;
    line << HexAddress(a) << "  ";
    if (!m) {
      line << "??";
    } else {
      line << m->symbol->name << "+0x" << std::hex << m->offset << std::dec;
      if (m->symbol->jit) {
        line << "  [jit";
        if (m->symbol->tier >= 0) line << " " << CodeTierName(static_cast<CodeTier>(m->symbol->tier));
        line << "]";
      } else {
        line << "  (" << m->symbol->module << ")";
      }
      if (m->source.line) line << "  " << m->source.file << ":" << m->source.line;
    }
    std::cout << line.str() << "\n";
  }
  if (json) std::cout << nlohmann::json{{"pid", target->pid}, {"comm", target->comm}, {"symbols", out}}.dump(2) << "\n";
  return kExitOk;
}

const Command kSymbolizeCommand{
    .name = "symbolize",
    .summary = "Name the native or JIT function at addresses of a running process",
    .usage = kUsage,
    .options = {{.name = "stop"}, {.name = "json"}, {.name = "verbose"}},
    .min_positionals = 1,
    .max_positionals = 1u << 20,
    .run = Run,
};
JITSCOPE_REGISTER_COMMAND(kSymbolizeCommand);

}  // namespace
}  // namespace jitscope::cli
