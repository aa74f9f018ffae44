#include <unistd.h>

#include <cerrno>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "command.h"
#include "jit_process.h"
#include "unwinder/process_info.h"

namespace jitscope::cli {
namespace {

constexpr std::string_view kUsage =
    "Usage: jitscope ps [--all] [--json]\n"
    "\n"
    "Lists the processes that export a GDB JIT descriptor (__jit_debug_descriptor)\n"
    "and reads each descriptor: pid, command name, descriptor address, version,\n"
    "magic (Android2, Android1 or gdb-v1), number of registered entries and the\n"
    "module defining the symbol. Descriptors that cannot be read are listed with\n"
    "the reason. jitscope itself is left out.\n"
    "\n"
    "Options:\n"
    "  --all    also list processes whose memory maps cannot be inspected\n"
    "  --json   print a JSON array instead of a table\n";

struct Row {
  pid_t pid = 0;
  std::string comm;
  std::optional<DescriptorReport> report;
  std::string error;  // the process itself could not be inspected
};

nlohmann::json RowJson(const Row& row) {
  nlohmann::json json{{"pid", row.pid}, {"comm", row.comm}};
  if (!row.report) {
    json["error"] = row.error;
    return json;
  }
  json["descriptor"] = HexAddress(row.report->location.address);
  json["module"] = row.report->location.module_path;
  if (!row.report->snapshot.ok()) {
    json["error"] = row.report->snapshot.error();
    return json;
  }
  const DescriptorSnapshot& snapshot = *row.report->snapshot;
  json["version"] = snapshot.version;
  json["magic"] = DescriptorVariantName(snapshot.variant);
  json["entries"] = snapshot.entries.size();
  return json;
}

void PrintTable(const std::vector<Row>& rows) {
  std::cout << std::left << std::setw(8) << "PID" << std::setw(17) << "COMM" << std::setw(20) << "DESCRIPTOR"
            << std::setw(8) << "VERSION" << std::setw(10) << "MAGIC" << std::setw(9) << "ENTRIES"
            << "MODULE\n";
  for (const Row& row : rows) {
    std::cout << std::left << std::setw(8) << row.pid << std::setw(17) << (row.comm.empty() ? "?" : row.comm);
    if (!row.report) {
      std::cout << "unreadable: " << row.error << "\n";
      continue;
    }
    std::cout << std::setw(20) << HexAddress(row.report->location.address);
    if (!row.report->snapshot.ok()) {
      std::cout << "error: " << row.report->snapshot.error() << "\n";
      continue;
    }
    const DescriptorSnapshot& snapshot = *row.report->snapshot;
    std::cout << std::setw(8) << snapshot.version << std::setw(10) << DescriptorVariantName(snapshot.variant)
              << std::setw(9) << snapshot.entries.size() << row.report->location.module_path << "\n";
  }
}

int Run(const ParsedArgs& args) {
  bool show_all = args.Has("all");
  DescriptorLocator locator;
  std::vector<Row> rows;
  size_t unreadable = 0;
  for (pid_t pid : ListProcesses()) {
    if (pid == getpid()) continue;  // we link the descriptor too
    Result<std::vector<DescriptorReport>> reports = InspectProcess(locator, pid);
    if (!reports) {
      // Processes that exit while we scan are not worth reporting.
      if (!ProcessExists(pid)) continue;
      unreadable++;
      if (show_all) rows.push_back(Row{pid, ReadProcessComm(pid), std::nullopt, reports.error()});
      continue;
    }
    for (DescriptorReport& report : *reports) {
      rows.push_back(Row{pid, ReadProcessComm(pid), std::move(report), ""});
    }
  }
  if (args.Has("json")) {
    nlohmann::json json = nlohmann::json::array();
    for (const Row& row : rows) json.push_back(RowJson(row));
    std::cout << json.dump(2) << "\n";
  } else {
    PrintTable(rows);
    if (rows.empty()) std::cout << "(no process exports a descriptor)\n";
  }
  if (unreadable > 0 && !show_all) {
    std::cerr << unreadable << " process(es) could not be inspected (permission denied?); --all lists them\n";
  }
  return kExitOk;
}

const Command kPsCommand{
    .name = "ps",
    .summary = "List processes that export a GDB JIT descriptor",
    .usage = kUsage,
    .options = {{.name = "all"}, {.name = "json"}},
    .min_positionals = 0,
    .max_positionals = 0,
    .run = Run,
};
JITSCOPE_REGISTER_COMMAND(kPsCommand);

}  // namespace
}  // namespace jitscope::cli
