#include <cinttypes>
#include <cstdio>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "command.h"
#include "debuginfo/symbolizer.h"
#include "jit_process.h"
#include "viewer/disassembler.h"

namespace jitscope::cli {
namespace {

constexpr std::string_view kUsage =
    "Usage: jitscope disasm (PID | SNAPSHOT) (FUNCTION | ADDR) [--json]\n"
    "\n"
    "Disassembles a JIT function's machine code, read from the running process\n"
    "(or from a snapshot), with Capstone. FUNCTION is a registered name\n"
    "(\"fib@fib.lua:3\") or its part before '@' when that is unique (\"fib\");\n"
    "ADDR (hex) is any address inside the function. Immediates that point at\n"
    "code are annotated with their symbol (call targets, runtime helpers);\n"
    "full-mode entries interleave the Lua source line where it changes, with\n"
    "its text from the target's source descriptor (no source files needed).\n"
    "\n"
    "Options:\n"
    "  --json   print JSON instead of text\n"
    "\n"
    "Exit status: 0 on success, 1 if the function is not found or its code\n"
    "cannot be read, 2 on a bad command line.\n";

int Run(const ParsedArgs& args) {
  static const Command* self = FindCommand("disasm");
  std::optional<Result<Target>> opened = OpenTargetArgument(args.positionals[0], "disasm");
  if (!opened) return UsageError(*self, "'" + args.positionals[0] + "' is not a process id or a snapshot file");
  Result<Target>& target = *opened;
  if (!target) {
    std::cerr << "jitscope disasm: " << target.error() << "\n";
    return kExitFailure;
  }
  Symbolizer symbols;
  symbols.AddModules(target->maps, target->offline ? 0 : target->pid);
  symbols.AddJit(target->jit());
  symbols.Finish();

  const std::string& what = args.positionals[1];
  const SymbolInfo* fn = nullptr;
  // An address must say 0x: "fib" or "add" are function names.
  std::optional<uint64_t> addr = what.starts_with("0x") || what.starts_with("0X") ? ParseHexAddress(what) : std::nullopt;
  if (addr) {
    std::optional<SymbolMatch> m = symbols.Lookup(*addr);
    if (!m || !m->symbol->jit) {
      std::cerr << "jitscope disasm: no JIT function at " << HexAddress(*addr) << "\n";
      return kExitFailure;
    }
    fn = m->symbol;
  } else {
    // The live JIT functions (as Lookup sees them: freed ones shadowed).
    std::vector<const SymbolInfo*> exact, prefix;
    for (const DescriptorView& d : target->jit().descriptors)
      for (const SnapshotEntry& e : d.entries)
        if (e.info)
          for (const SymfileFunction& f : e.info->functions) {
            std::optional<SymbolMatch> m = symbols.Lookup(f.address);
            if (!m || m->offset != 0 || m->symbol->name != f.name) continue;
            if (f.name == what) exact.push_back(m->symbol);
            else if (f.name.rfind(what + "@", 0) == 0) prefix.push_back(m->symbol);
          }
    std::vector<const SymbolInfo*>& pick = exact.empty() ? prefix : exact;
    if (pick.empty()) {
      std::cerr << "jitscope disasm: no JIT function named '" << what << "'\n";
      return kExitFailure;
    }
    if (pick.size() > 1) {
      std::cerr << "jitscope disasm: '" << what << "' names " << pick.size() << " functions:";
      for (const SymbolInfo* s : pick) std::cerr << " " << s->name << "@" << HexAddress(s->start);
      std::cerr << "\n";
      return kExitFailure;
    }
    fn = pick[0];
  }
  Result<std::vector<DisassembledInstruction>> code =
      Disassemble(target->code_memory(), fn->start, fn->size, &symbols);
  if (!code) {
    std::cerr << "jitscope disasm: " << code.error() << "\n";
    return kExitFailure;
  }
  // Source text from the target's source descriptor (no files needed).
  std::map<std::string, SourceBlob> blobs = target->SourceBlobs();
  auto source_text = [&blobs](const std::string& where) -> std::string {
    size_t colon = where.rfind(':');
    if (colon == std::string::npos) return "";
    std::string file = where.substr(0, colon);
    long line = strtol(where.c_str() + colon + 1, nullptr, 10);
    for (const auto& [name, blob] : blobs) {
      bool same = name == file || (file.size() > name.size() && file.ends_with("/" + name)) ||
                  (name.size() > file.size() && name.ends_with("/" + file));
      if (!same || line <= 0) continue;
      size_t start = 0;
      for (long l = 1; l < line && start != std::string::npos; l++) {
        start = blob.text.find('\n', start);
        if (start != std::string::npos) start++;
      }
      if (start == std::string::npos || start >= blob.text.size()) return "";
      size_t end = blob.text.find('\n', start);
      return blob.text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    }
    return "";
  };
  if (args.Has("json")) {
    nlohmann::json insns = nlohmann::json::array();
    for (const DisassembledInstruction& i : *code) {
      std::string hex;
      char b[4];
      for (uint8_t byte : i.bytes) snprintf(b, sizeof(b), "%02x", byte), hex += b;
      nlohmann::json j{{"address", HexAddress(i.address)}, {"bytes", hex}, {"mnemonic", i.mnemonic},
                       {"operands", i.operands}};
      if (!i.target.empty()) j["target"] = i.target;
      if (!i.source.empty()) {
        j["source"] = i.source;
        std::string text = source_text(i.source);
        if (!text.empty()) j["source_text"] = text;
      }
      insns.push_back(std::move(j));
    }
    nlohmann::json out{{"function", fn->name}, {"start", HexAddress(fn->start)}, {"size", fn->size},
                       {"instructions", insns}};
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  printf("%s  %s-%s  %" PRIu64 " bytes\n", fn->name.c_str(), HexAddress(fn->start).c_str(),
         HexAddress(fn->start + fn->size).c_str(), fn->size);
  for (const DisassembledInstruction& i : *code) {
    if (!i.source.empty()) {
      std::string text = source_text(i.source);
      printf("  ; %s%s%s\n", i.source.c_str(), text.empty() ? "" : ":  ", text.c_str());
    }
    std::string hex;
    char b[4];
    for (uint8_t byte : i.bytes) snprintf(b, sizeof(b), "%02x", byte), hex += b;
    printf("  %s <+%" PRIu64 ">  %-22s %-7s %s%s%s\n", HexAddress(i.address).c_str(), i.address - fn->start,
           hex.c_str(), i.mnemonic.c_str(), i.operands.c_str(), i.target.empty() ? "" : "   ; ", i.target.c_str());
  }
  return kExitOk;
}

const Command kDisasmCommand{
    .name = "disasm",
    .summary = "Disassemble a JIT function of a process or snapshot (Capstone)",
    .usage = kUsage,
    .options = {{.name = "json"}},
    .min_positionals = 2,
    .max_positionals = 2,
    .run = Run,
};
JITSCOPE_REGISTER_COMMAND(kDisasmCommand);

}  // namespace
}  // namespace jitscope::cli
