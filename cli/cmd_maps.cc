#include <cinttypes>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "command.h"
#include "debuginfo/code_event.h"
#include "jit_process.h"

namespace jitscope::cli {
namespace {

constexpr std::string_view kUsage =
    "Usage: jitscope maps (PID | SNAPSHOT) [--json]\n"
    "\n"
    "The code map of a running process, read from outside without stopping it:\n"
    "every executable mapping, and inside each one every function registered\n"
    "through the GDB JIT interface (start, end, size, debug-info layout of its\n"
    "entry, entry address, registration time, name, source:line when the entry\n"
    "has DWARF lines). Ends with the totals of registered debug info by layout.\n"
    "\n"
    "Options:\n"
    "  --stop      freeze the target with ptrace while copying (for plain GDB\n"
    "              descriptors, which have no seqlock); it runs on afterwards\n"
    "  --json   print JSON instead of text\n"
    "\n"
    "Exit status: 0 on success, 1 if the process cannot be read or has no JIT\n"
    "descriptor, 2 on a bad command line.\n";

struct Row {
  const SnapshotEntry* entry;
  const SymfileFunction* function;
};

std::string Source(const SymfileFunction& f) {
  if (f.file.empty()) return "";
  return f.file + ":" + std::to_string(f.line);
}

std::string Seconds(uint64_t ns) {
  if (ns == 0) return "-";  // plain GDB descriptors keep no time
  char buf[64];
  snprintf(buf, sizeof(buf), "%" PRIu64 ".%06" PRIu64, ns / 1000000000, (ns / 1000) % 1000000);
  return buf;
}

int Run(const ParsedArgs& args) {
  static const Command* self = FindCommand("maps");
  std::optional<Result<Target>> opened = OpenTargetArgument(args.positionals[0], "maps", args.Has("stop"));
  if (!opened) return UsageError(*self, "'" + args.positionals[0] + "' is not a process id or a snapshot file");
  Result<Target>& target = *opened;
  if (!target) {
    std::cerr << "jitscope maps: " << target.error() << "\n";
    return kExitFailure;
  }
  const JitSnapshot& snap = target->jit();
  std::vector<Row> rows;
  for (const DescriptorView& d : snap.descriptors)
    for (const SnapshotEntry& e : d.entries)
      if (e.info)
        for (const SymfileFunction& f : e.info->functions) rows.push_back(Row{&e, &f});
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return a.function->address != b.function->address ? a.function->address < b.function->address
                                                      : a.entry->timestamp > b.entry->timestamp;
  });
  std::vector<const MapEntry*> exec;
  for (const MapEntry& m : target->maps)
    if (m.executable) exec.push_back(&m);
  std::vector<std::vector<Row>> inside(exec.size());
  std::vector<Row> outside;
  for (const Row& r : rows) {
    bool placed = false;
    for (size_t i = 0; i < exec.size() && !placed; i++) {
      if (r.function->address >= exec[i]->start && r.function->address < exec[i]->end) {
        inside[i].push_back(r);
        placed = true;
      }
    }
    if (!placed) outside.push_back(r);
  }
  JitSnapshot::Totals totals = snap.totals();

  if (args.Has("json")) {
    auto row_json = [](const Row& r) {
      nlohmann::json j{{"start", HexAddress(r.function->address)},
                       {"end", HexAddress(r.function->address + r.function->size)},
                       {"size", r.function->size},
                       {"name", r.function->name},
                       {"layout", SymfileKindName(r.entry->info->kind)},
                       {"tier", std::string(r.function->tier >= 0 ? CodeTierName(static_cast<CodeTier>(r.function->tier)) : "unknown")},
                       {"entry", HexAddress(r.entry->entry_address)},
                       {"registered_ns", r.entry->timestamp}};
      if (!r.function->file.empty()) j["source"] = Source(*r.function);
      return j;
    };
    nlohmann::json mappings = nlohmann::json::array();
    for (size_t i = 0; i < exec.size(); i++) {
      nlohmann::json fs = nlohmann::json::array();
      for (const Row& r : inside[i]) fs.push_back(row_json(r));
      mappings.push_back({{"start", HexAddress(exec[i]->start)},
                          {"end", HexAddress(exec[i]->end)},
                          {"perms", exec[i]->Perms()},
                          {"offset", exec[i]->offset},
                          {"path", exec[i]->path},
                          {"deleted", exec[i]->deleted},
                          {"jit_functions", std::move(fs)}});
    }
    nlohmann::json out_json = nlohmann::json::array();
    for (const Row& r : outside) out_json.push_back(row_json(r));
    nlohmann::json problems = nlohmann::json::array();
    for (const DescriptorView& d : snap.descriptors)
      for (const SnapshotEntry& e : d.entries)
        if (!e.problem.empty()) problems.push_back({{"entry", HexAddress(e.entry_address)}, {"problem", e.problem}});
    nlohmann::json descriptors = nlohmann::json::array();
    for (const DescriptorView& d : snap.descriptors)
      descriptors.push_back({{"address", HexAddress(d.location.address)},
                             {"module", d.location.module_path},
                             {"variant", DescriptorVariantName(d.header.variant)},
                             {"timestamp", d.header.timestamp},
                             {"entries", d.entries.size()}});
    nlohmann::json out{{"pid", target->pid},
                       {"comm", target->comm},
                       {"taken_ns", snap.taken_ns},
                       {"synchronized", target->synchronized()},
                       {"stopped_during_read", target->frozen},
                       {"descriptors", descriptors},
                       {"mappings", mappings},
                       {"unmapped_jit_functions", out_json},
                       {"problems", problems},
                       {"debug_info",
                        {{"entries", totals.entries},
                         {"functions", totals.functions},
                         {"unpacked_bytes", totals.unpacked_bytes},
                         {"packed_bytes", totals.packed_bytes},
                         {"compressed_bytes", totals.compressed_bytes},
                         {"other_bytes", totals.other_bytes}}}};
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }

  std::cout << "process " << target->pid << " (" << target->comm << ")" << (target->frozen ? "  [copied with the target stopped]" : snap.synchronized ? "" : "  [unsynchronized copy]")
            << "\n";
  auto print_rows = [](const std::vector<Row>& list) {
    if (list.empty()) return;
    printf("    %-18s %-18s %8s %-10s %-9s %-18s %-18s %s\n", "START", "END", "SIZE", "LAYOUT", "TIER", "ENTRY",
           "REGISTERED(s)", "NAME");
    for (const Row& r : list) {
      std::string source = Source(*r.function);
      printf("    %-18s %-18s %8" PRIu64 " %-10s %-9s %-18s %-18s %s%s%s\n", HexAddress(r.function->address).c_str(),
             HexAddress(r.function->address + r.function->size).c_str(), r.function->size,
             SymfileKindName(r.entry->info->kind),
             r.function->tier >= 0 ? CodeTierName(static_cast<CodeTier>(r.function->tier)) : "-",
             HexAddress(r.entry->entry_address).c_str(),
             Seconds(r.entry->timestamp).c_str(), r.function->name.c_str(), source.empty() ? "" : "  ",
             source.c_str());
    }
  };
  for (size_t i = 0; i < exec.size(); i++) {
    const MapEntry& m = *exec[i];
    printf("%s-%s %s %08" PRIx64 " %s%s", HexAddress(m.start).c_str(), HexAddress(m.end).c_str(), m.Perms().c_str(),
           m.offset, m.path.c_str(), m.deleted ? " (deleted)" : "");
    if (!inside[i].empty()) printf("  [jit: %zu functions]", inside[i].size());
    printf("\n");
    print_rows(inside[i]);
  }
  if (!outside.empty()) {
    printf("JIT functions outside any executable mapping:\n");
    print_rows(outside);
  }
  fflush(stdout);
  for (const DescriptorView& d : snap.descriptors)
    for (const SnapshotEntry& e : d.entries)
      if (!e.problem.empty()) std::cout << "entry " << HexAddress(e.entry_address) << ": " << e.problem << "\n";
  std::cout << "debug info: " << totals.entries << " entries, " << totals.functions << " functions; "
            << totals.unpacked_bytes << " bytes unpacked, " << totals.packed_bytes << " packed, "
            << totals.compressed_bytes << " compressed";
  if (totals.other_bytes) std::cout << ", " << totals.other_bytes << " other";
  std::cout << "\n";
  return kExitOk;
}

const Command kMapsCommand{
    .name = "maps",
    .summary = "Code map of a process: executable mappings and every JIT function in them",
    .usage = kUsage,
    .options = {{.name = "stop"}, {.name = "json"}},
    .min_positionals = 1,
    .max_positionals = 1,
    .run = Run,
};
JITSCOPE_REGISTER_COMMAND(kMapsCommand);

}  // namespace
}  // namespace jitscope::cli
