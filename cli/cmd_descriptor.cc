#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "command.h"
#include "jit_process.h"
#include "unwinder/process_info.h"

namespace jitscope::cli {
namespace {

constexpr std::string_view kUsage =
    "Usage: jitscope descriptor PID [--json] [--symbol NAME | --address ADDR]\n"
    "\n"
    "Reads the GDB JIT descriptor of process PID from outside (process_vm_readv),\n"
    "following the seqlock protocol, and prints its header and every entry:\n"
    "entry address, symbol file address and size, registration timestamp\n"
    "(CLOCK_MONOTONIC ns) and entry seqlock.\n"
    "\n"
    "Options:\n"
    "  --json          print JSON instead of text\n"
    "  --symbol NAME   read the descriptor named NAME (default __jit_debug_descriptor)\n"
    "  --address ADDR  read a descriptor at a known address (hex), skipping the lookup\n"
    "\n"
    "Exit status: 0 on success, 1 if the process has no readable descriptor,\n"
    "2 on a bad command line.\n";

const char* ActionName(uint32_t action) {
  switch (action) {
    case 0:
      return "none";
    case 1:
      return "register";
    case 2:
      return "unregister";
  }
  return "unknown";
}

nlohmann::json SnapshotJson(const DescriptorLocation& location, const DescriptorSnapshot& snapshot) {
  nlohmann::json entries = nlohmann::json::array();
  for (const JitEntrySnapshot& entry : snapshot.entries) {
    nlohmann::json json{{"address", HexAddress(entry.address)},
                        {"symfile_addr", HexAddress(entry.symfile_addr)},
                        {"symfile_size", entry.symfile_size},
                        {"timestamp", entry.timestamp},
                        {"seqlock", entry.seqlock}};
    if (!entry.problem.empty()) json["problem"] = entry.problem;
    entries.push_back(std::move(json));
  }
  return nlohmann::json{{"address", HexAddress(location.address)},
                        {"module", location.module_path},
                        {"variant", DescriptorVariantName(snapshot.variant)},
                        {"synchronized", snapshot.synchronized},
                        {"attempts", snapshot.attempts},
                        {"version", snapshot.version},
                        {"action_flag", snapshot.action_flag},
                        {"relevant_entry", HexAddress(snapshot.relevant_entry)},
                        {"first_entry", HexAddress(snapshot.first_entry)},
                        {"magic", snapshot.magic},
                        {"flags", snapshot.flags},
                        {"sizeof_descriptor", snapshot.sizeof_descriptor},
                        {"sizeof_entry", snapshot.sizeof_entry},
                        {"seqlock", snapshot.seqlock},
                        {"timestamp", snapshot.timestamp},
                        {"entries", std::move(entries)}};
}

void PrintText(const DescriptorLocation& location, const DescriptorSnapshot& snapshot) {
  auto line = [](std::string_view label) -> std::ostream& {
    return std::cout << "  " << std::left << std::setw(18) << label;
  };
  std::cout << "descriptor " << HexAddress(location.address);
  if (!location.module_path.empty()) std::cout << " in " << location.module_path;
  std::cout << "\n";
  line("variant") << DescriptorVariantName(snapshot.variant)
                  << (snapshot.synchronized ? " (seqlock-verified copy" : " (no seqlock: best-effort copy")
                  << ", " << snapshot.attempts << " attempt" << (snapshot.attempts == 1 ? "" : "s") << ")\n";
  line("version") << snapshot.version << "\n";
  line("action_flag") << snapshot.action_flag << " (" << ActionName(snapshot.action_flag) << ")\n";
  line("relevant_entry") << HexAddress(snapshot.relevant_entry) << "\n";
  line("first_entry") << HexAddress(snapshot.first_entry) << "\n";
  if (snapshot.variant != DescriptorVariant::kGdbV1) {
    line("magic") << snapshot.magic << "\n";
    line("flags") << snapshot.flags << "\n";
    line("sizeof_descriptor") << snapshot.sizeof_descriptor << "\n";
    line("sizeof_entry") << snapshot.sizeof_entry << "\n";
    line("seqlock") << snapshot.seqlock << "\n";
    line("timestamp") << snapshot.timestamp << " ns\n";
  }
  line("entries") << snapshot.entries.size() << "\n";
  if (snapshot.entries.empty()) return;
  std::cout << "  " << std::left << std::setw(4) << "#" << std::setw(17) << "ENTRY" << std::setw(17) << "SYMFILE"
            << std::setw(10) << "SIZE" << std::setw(18) << "TIMESTAMP" << "SEQLOCK\n";
  for (size_t i = 0; i < snapshot.entries.size(); i++) {
    const JitEntrySnapshot& entry = snapshot.entries[i];
    std::cout << "  " << std::left << std::setw(4) << i << std::setw(17) << HexAddress(entry.address) << std::setw(17)
              << HexAddress(entry.symfile_addr) << std::setw(10) << entry.symfile_size << std::setw(18)
              << entry.timestamp << entry.seqlock;
    if (!entry.problem.empty()) std::cout << "  (" << entry.problem << ")";
    std::cout << "\n";
  }
}

int Run(const ParsedArgs& args) {
  static const Command* self = FindCommand("descriptor");
  std::optional<int> pid = ParsePid(args.positionals[0]);
  if (!pid) return UsageError(*self, "'" + args.positionals[0] + "' is not a process id");
  std::string symbol = args.Value("symbol").value_or(std::string(kJitDescriptorSymbol));

  std::vector<DescriptorReport> reports;
  if (std::optional<std::string> text = args.Value("address")) {
    std::optional<uint64_t> parsed = ParseHexAddress(*text);
    if (!parsed) return UsageError(*self, "'" + *text + "' is not a hex address");
    uint64_t address = *parsed;
    if (!ProcessExists(*pid)) {
      std::cerr << "jitscope descriptor: process " << *pid << " does not exist\n";
      return kExitFailure;
    }
    reports.push_back(DescriptorReport{DescriptorLocation{address, ""}, ReadDescriptorAt(*pid, address)});
  } else {
    DescriptorLocator locator;
    Result<std::vector<DescriptorReport>> found = InspectProcess(locator, *pid, symbol);
    if (!found) {
      std::cerr << "jitscope descriptor: " << found.error() << "\n";
      return kExitFailure;
    }
    if (found->empty()) {
      std::cerr << "jitscope descriptor: process " << *pid << " (" << ReadProcessComm(*pid)
                << ") has no mapped ELF file that defines " << symbol << "\n";
      return kExitFailure;
    }
    reports = std::move(*found);
  }

  int status = kExitOk;
  nlohmann::json json = nlohmann::json::array();
  if (!args.Has("json")) std::cout << "process " << *pid << " (" << ReadProcessComm(*pid) << ")\n";
  for (const DescriptorReport& report : reports) {
    if (!report.snapshot.ok()) {
      std::cerr << "jitscope descriptor: " << report.snapshot.error() << "\n";
      status = kExitFailure;
      continue;
    }
    if (args.Has("json")) {
      json.push_back(SnapshotJson(report.location, *report.snapshot));
    } else {
      PrintText(report.location, *report.snapshot);
    }
  }
  if (args.Has("json")) {
    std::cout << nlohmann::json{{"pid", *pid}, {"comm", ReadProcessComm(*pid)}, {"descriptors", json}}.dump(2)
              << "\n";
  }
  return status;
}

const Command kDescriptorCommand{
    .name = "descriptor",
    .summary = "Dump a process's GDB JIT descriptor and its entries",
    .usage = kUsage,
    .options = {{.name = "json"}, {.name = "symbol", .takes_value = true}, {.name = "address", .takes_value = true}},
    .min_positionals = 1,
    .max_positionals = 1,
    .run = Run,
};
JITSCOPE_REGISTER_COMMAND(kDescriptorCommand);

}  // namespace
}  // namespace jitscope::cli
