#include "viewer/view_model.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>

#include "debuginfo/code_event.h"
#include "viewer/disassembler.h"

namespace jitscope {
namespace {

std::string TierName(int tier) {
  return tier >= 0 ? CodeTierName(static_cast<CodeTier>(tier)) : "unknown";
}

std::string HexBytes(const std::vector<uint8_t>& bytes) {
  std::string hex;
  char b[4];
  for (uint8_t byte : bytes) snprintf(b, sizeof(b), "%02x", byte), hex += b;
  return hex;
}

// The blob whose chunk name is `file` (exactly, or as a path suffix: full
// mode records the script path, blobs the chunk name).
const SourceBlob* FindBlob(const std::map<std::string, SourceBlob>& blobs, const std::string& file) {
  for (const auto& [name, blob] : blobs) {
    bool same = name == file || (file.size() > name.size() && file.ends_with("/" + name)) ||
                (name.size() > file.size() && name.ends_with("/" + file));
    if (same) return &blob;
  }
  return nullptr;
}

std::string LineOf(const std::string& text, long line) {
  if (line <= 0) return "";
  size_t start = 0;
  for (long l = 1; l < line && start != std::string::npos; l++) {
    start = text.find('\n', start);
    if (start != std::string::npos) start++;
  }
  if (start == std::string::npos || start >= text.size()) return "";
  size_t end = text.find('\n', start);
  return text.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

}  // namespace

void ViewModel::Update(const ViewData& data, uint64_t now_ns) {
  // Everything slow (parsing native symbols, copying code) happens before
  // the lock, so readers are never blocked by a remote read.
  auto symbols = std::make_unique<Symbolizer>();
  if (data.native_symbols) symbols->AddModules(data.maps, data.symbol_pid);
  symbols->AddJit(*data.jit);
  symbols->Finish();

  std::vector<Function> functions;
  std::vector<std::string> problems;
  std::map<EntryKey, Event> entries;
  for (const DescriptorView& d : data.jit->descriptors)
    for (const SnapshotEntry& e : d.entries) {
      if (!e.problem.empty()) problems.push_back("entry " + HexAddress(e.entry_address) + ": " + e.problem);
      Event ev;
      ev.time_ns = e.timestamp;
      ev.action = "register";
      ev.entry = e.entry_address;
      ev.symfile_size = e.symfile_size;
      ev.layout = !data.layout_override.empty() ? data.layout_override
                  : e.info                      ? SymfileKindName(e.info->kind)
                                                : "unreadable";
      if (e.info)
        for (const SymfileFunction& f : e.info->functions) {
          ev.functions.push_back(f.name);
          // Listed once, as Lookup sees it: a function that a newer entry
          // (a packed group) also describes belongs to that entry.
          std::optional<SymbolMatch> m = symbols->Lookup(f.address);
          if (!m || m->offset != 0 || m->symbol->name != f.name || m->symbol->entry != e.entry_address) continue;
          Function fn;
          fn.start = f.address;
          fn.size = f.size;
          fn.name = f.name;
          fn.tier = TierName(f.tier);
          fn.layout = ev.layout;
          if (!f.file.empty()) fn.source = f.file + ":" + std::to_string(f.line);
          fn.entry = e.entry_address;
          fn.registered_ns = e.timestamp;
          functions.push_back(std::move(fn));
        }
      entries.emplace(EntryKey{e.entry_address, e.timestamp, e.seqlock}, std::move(ev));
    }
  std::sort(functions.begin(), functions.end(), [](const Function& a, const Function& b) { return a.start < b.start; });
  // Function sources from the blobs' function records where DWARF has none.
  for (Function& fn : functions) {
    if (!fn.source.empty()) continue;
    for (const auto& [chunk, blob] : data.sources)
      for (const SourceFunction& sf : blob.functions)
        if (sf.name == fn.name && fn.source.empty()) fn.source = chunk + ":" + std::to_string(sf.first_line);
  }
  for (Function& fn : functions) {
    auto lo = data.samples.lower_bound(fn.start);
    for (auto it = lo; it != data.samples.end() && it->first < fn.start + fn.size; ++it) fn.samples += it->second;
  }

  // Code bytes: reuse what we have, copy what is new.
  std::map<CodeKey, std::shared_ptr<const std::vector<uint8_t>>> code;
  uint64_t code_bytes = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const Function& fn : functions) {
      auto it = code_.find(CodeKey{fn.start, fn.size, fn.name});
      if (it != code_.end()) code.emplace(it->first, it->second), code_bytes += fn.size;
    }
  }
  for (const Function& fn : functions) {
    CodeKey key{fn.start, fn.size, fn.name};
    if (code.count(key) || !data.code || code_bytes + fn.size > kMaxCodeBytes) continue;
    auto bytes = std::make_shared<std::vector<uint8_t>>(fn.size);
    if (!data.code->ReadFully(fn.start, bytes->data(), bytes->size())) continue;  // reported at disasm time
    code_bytes += fn.size;
    code.emplace(std::move(key), std::move(bytes));
  }

  JitSnapshot::Totals totals = data.jit->totals();
  // Entries by layout (the totals count bytes by layout, entries overall).
  uint64_t by_kind[4] = {0, 0, 0, 0}, unreadable = 0;
  for (const DescriptorView& d : data.jit->descriptors)
    for (const SnapshotEntry& e : d.entries)
      if (e.info) by_kind[static_cast<size_t>(e.info->kind) & 3]++;
      else unreadable++;
  nlohmann::json debug_info{{"entries", totals.entries},
                            {"unpacked_entries", by_kind[static_cast<size_t>(SymfileKind::kSingle)]},
                            {"packed_entries", by_kind[static_cast<size_t>(SymfileKind::kPacked)]},
                            {"compressed_entries", by_kind[static_cast<size_t>(SymfileKind::kCompressed)]},
                            {"other_entries", by_kind[static_cast<size_t>(SymfileKind::kRelocatable)] + unreadable},
                            {"functions", totals.functions},
                            {"unpacked_bytes", totals.unpacked_bytes},
                            {"packed_bytes", totals.packed_bytes},
                            {"compressed_bytes", totals.compressed_bytes},
                            {"other_bytes", totals.other_bytes}};

  std::lock_guard<std::mutex> lock(mu_);
  bool first = generation_ == 0;
  // The timeline: every entry's registration (at its own timestamp), and
  // unregistrations at the time this read noticed them.
  for (const auto& [key, ev] : entries)
    if (first || !live_entries_.count(key)) events_.push_back(ev);
  for (const auto& [key, ev] : live_entries_)
    if (!entries.count(key)) {
      Event gone = ev;
      gone.action = "unregister";
      gone.time_ns = data.jit->taken_ns ? data.jit->taken_ns : now_ns;
      events_.push_back(std::move(gone));
    }
  std::stable_sort(events_.begin(), events_.end(),
                   [](const Event& a, const Event& b) { return a.time_ns < b.time_ns; });
  if (events_.size() > kMaxEvents) events_.erase(events_.begin(), events_.end() - kMaxEvents);
  live_entries_ = std::move(entries);

  nlohmann::json point = debug_info;
  point["time_ns"] = data.jit->taken_ns ? data.jit->taken_ns : now_ns;
  memory_history_.push_back(std::move(point));
  if (memory_history_.size() > kMaxMemoryPoints) memory_history_.erase(memory_history_.begin());

  mode_ = data.mode;
  source_ = data.source;
  pid_ = data.pid;
  comm_ = data.comm;
  note_ = data.note;
  layout_override_ = data.layout_override;
  maps_ = data.maps;
  functions_ = std::move(functions);
  debug_info_ = std::move(debug_info);
  problems_ = std::move(problems);
  sources_ = data.sources;
  crash_ = data.crash;
  samples_ = data.samples;
  total_samples_ = data.total_samples;
  code_ = std::move(code);
  code_bytes_ = code_bytes;
  symbols_ = std::move(symbols);
  taken_ns_ = data.jit->taken_ns;
  synchronized_ = data.jit->synchronized;
  updated_ns_ = now_ns;
  problem_.clear();
  generation_++;
}

void ViewModel::MarkExited(uint64_t now_ns) {
  std::lock_guard<std::mutex> lock(mu_);
  if (exited_) return;
  exited_ = true;
  exited_ns_ = now_ns;
  generation_++;
}

void ViewModel::SetProblem(const std::string& problem) {
  std::lock_guard<std::mutex> lock(mu_);
  if (problem_ == problem) return;
  problem_ = problem;
  generation_++;
}

uint64_t ViewModel::generation() const {
  std::lock_guard<std::mutex> lock(mu_);
  return generation_;
}

std::string ViewModel::StateJson() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (cached_generation_ != generation_) {
    cached_state_ = BuildStateLocked().dump();
    cached_generation_ = generation_;
  }
  return cached_state_;
}

nlohmann::json ViewModel::BuildStateLocked() const {
  nlohmann::json functions = nlohmann::json::array();
  for (const Function& fn : functions_) {
    nlohmann::json j{{"start", HexAddress(fn.start)},
                     {"end", HexAddress(fn.start + fn.size)},
                     {"size", fn.size},
                     {"name", fn.name},
                     {"tier", fn.tier},
                     {"layout", fn.layout},
                     {"source", fn.source},
                     {"entry", HexAddress(fn.entry)},
                     {"registered_ns", fn.registered_ns},
                     {"code", code_.count(CodeKey{fn.start, fn.size, fn.name}) > 0}};
    if (!samples_.empty()) j["samples"] = fn.samples;
    functions.push_back(std::move(j));
  }
  // The code map: executable mappings, each with the indices (into
  // "functions") of the JIT functions inside it. Functions outside every
  // mapping (a recording has no maps) get a synthetic mapping around them.
  nlohmann::json mappings = nlohmann::json::array();
  std::vector<bool> placed(functions_.size(), false);
  for (const MapEntry& m : maps_) {
    if (!m.executable) continue;
    nlohmann::json inside = nlohmann::json::array();
    for (size_t i = 0; i < functions_.size(); i++)
      if (functions_[i].start >= m.start && functions_[i].start < m.end) inside.push_back(i), placed[i] = true;
    mappings.push_back({{"start", HexAddress(m.start)},
                        {"end", HexAddress(m.end)},
                        {"size", m.end - m.start},
                        {"perms", m.Perms()},
                        {"path", m.path},
                        {"deleted", m.deleted},
                        {"synthetic", false},
                        {"functions", std::move(inside)}});
  }
  uint64_t lo = UINT64_MAX, hi = 0;
  nlohmann::json rest = nlohmann::json::array();
  for (size_t i = 0; i < functions_.size(); i++)
    if (!placed[i]) {
      lo = std::min(lo, functions_[i].start);
      hi = std::max(hi, functions_[i].start + functions_[i].size);
      rest.push_back(i);
    }
  if (!rest.empty()) {
    constexpr uint64_t kPage = 4096;
    lo &= ~(kPage - 1);
    hi = (hi + kPage - 1) & ~(kPage - 1);
    mappings.push_back({{"start", HexAddress(lo)},
                        {"end", HexAddress(hi)},
                        {"size", hi - lo},
                        {"perms", ""},
                        {"path", "(JIT functions outside any known mapping)"},
                        {"deleted", false},
                        {"synthetic", true},
                        {"functions", std::move(rest)}});
  }
  nlohmann::json events = nlohmann::json::array();
  for (const Event& e : events_)
    events.push_back({{"time_ns", e.time_ns},
                      {"action", e.action},
                      {"entry", HexAddress(e.entry)},
                      {"layout", e.layout},
                      {"symfile_size", e.symfile_size},
                      {"functions", e.functions}});
  nlohmann::json crash = nullptr;
  if (crash_) {
    nlohmann::json threads = nlohmann::json::array();
    for (const ViewThread& t : crash_->threads) {
      nlohmann::json frames = nlohmann::json::array();
      for (size_t k = 0; k < t.frames.size(); k++) {
        const ViewFrame& f = t.frames[k];
        nlohmann::json j{{"pc", HexAddress(f.pc)},  {"jit", f.jit},       {"module", f.module},
                         {"function", f.function}, {"offset", f.offset}, {"source", f.source},
                         {"skipped", f.skipped}};
        // A JIT frame links to the disassembly of the function holding its pc.
        // A caller's pc is a return address: the call before it is what
        // belongs to the function (a call can be its last instruction).
        uint64_t at = k == 0 || f.pc == 0 ? f.pc : f.pc - 1;
        if (f.jit) {
          auto fn = std::upper_bound(functions_.begin(), functions_.end(), at,
                                     [](uint64_t a, const Function& x) { return a < x.start; });
          if (fn != functions_.begin() && at < (fn - 1)->start + (fn - 1)->size)
            j["function_start"] = HexAddress((fn - 1)->start);
        }
        frames.push_back(std::move(j));
      }
      threads.push_back({{"tid", t.tid}, {"name", t.name}, {"crashed", t.crashed}, {"error", t.error},
                         {"frames", std::move(frames)}});
    }
    crash = {{"signal", crash_->signal},
             {"signal_name", crash_->signal_name},
             {"code_name", crash_->code_name},
             {"fault_address", HexAddress(crash_->fault_address)},
             {"cmdline", crash_->cmdline},
             {"minimal", crash_->minimal},
             {"threads", std::move(threads)}};
  }
  return {{"api_version", 1},
          {"generation", generation_},
          {"mode", mode_},
          {"source", source_},
          {"pid", pid_},
          {"comm", comm_},
          {"note", note_},
          {"live", mode_ == "live" && !exited_},
          {"exited", exited_},
          {"exited_ns", exited_ns_},
          {"updated_ns", updated_ns_},
          {"taken_ns", taken_ns_},
          {"synchronized", synchronized_},
          {"problem", problem_},
          {"problems", problems_},
          {"debug_info", debug_info_},
          {"code_bytes_copied", code_bytes_},
          {"total_samples", total_samples_},
          {"mappings", std::move(mappings)},
          {"functions", std::move(functions)},
          {"memory", memory_history_},
          {"events", std::move(events)},
          {"crash", std::move(crash)}};
}

std::string ViewModel::SourceTextLocked(const std::string& where) const {
  size_t colon = where.rfind(':');
  if (colon == std::string::npos) return "";
  const SourceBlob* blob = FindBlob(sources_, where.substr(0, colon));
  return blob ? LineOf(blob->text, strtol(where.c_str() + colon + 1, nullptr, 10)) : "";
}

Result<nlohmann::json> ViewModel::Disassembly(uint64_t address) const {
  std::lock_guard<std::mutex> lock(mu_);
  return DisassemblyLocked(address);
}

Result<nlohmann::json> ViewModel::DisassemblyLocked(uint64_t address) const {
  auto fn = std::upper_bound(functions_.begin(), functions_.end(), address,
                             [](uint64_t a, const Function& f) { return a < f.start; });
  if (fn == functions_.begin() || address >= (fn - 1)->start + (fn - 1)->size)
    return Error{"no JIT function at " + HexAddress(address)};
  --fn;
  auto code = code_.find(CodeKey{fn->start, fn->size, fn->name});
  if (code == code_.end())
    return Error{"the code of " + fn->name + " at " + HexAddress(fn->start) + " could not be copied from the target"};
  BufferMemory memory(fn->start, *code->second);
  Result<std::vector<DisassembledInstruction>> insns = Disassemble(memory, fn->start, fn->size, symbols_.get());
  if (!insns) return std::move(insns).take_error();
  nlohmann::json out_insns = nlohmann::json::array();
  for (size_t i = 0; i < insns->size(); i++) {
    const DisassembledInstruction& in = (*insns)[i];
    nlohmann::json j{{"address", HexAddress(in.address)}, {"offset", in.address - fn->start},
                     {"bytes", HexBytes(in.bytes)},       {"mnemonic", in.mnemonic},
                     {"operands", in.operands}};
    if (!in.target.empty()) j["target"] = in.target;
    if (!in.source.empty()) {
      j["source"] = in.source;
      std::string text = SourceTextLocked(in.source);
      if (!text.empty()) j["source_text"] = text;
    }
    if (!samples_.empty()) {
      uint64_t end = i + 1 < insns->size() ? (*insns)[i + 1].address : fn->start + fn->size;
      uint64_t n = 0;
      for (auto it = samples_.lower_bound(in.address); it != samples_.end() && it->first < end; ++it) n += it->second;
      j["samples"] = n;
    }
    out_insns.push_back(std::move(j));
  }
  // The function's whole source (from the blob's function record), for
  // mini debug info, which has no per-instruction lines.
  nlohmann::json source_lines = nlohmann::json::array();
  for (const auto& [chunk, blob] : sources_)
    for (const SourceFunction& sf : blob.functions)
      if (sf.name == fn->name && source_lines.empty())
        for (uint32_t l = sf.first_line; l <= sf.last_line && l - sf.first_line < kMaxSourceLines; l++)
          source_lines.push_back({{"source", chunk + ":" + std::to_string(l)}, {"line", l},
                                  {"text", LineOf(blob.text, l)}});
  nlohmann::json out{{"function", fn->name},
                     {"start", HexAddress(fn->start)},
                     {"end", HexAddress(fn->start + fn->size)},
                     {"size", fn->size},
                     {"tier", fn->tier},
                     {"layout", fn->layout},
                     {"source", fn->source},
                     {"source_lines", std::move(source_lines)},
                     {"instructions", std::move(out_insns)}};
  if (!samples_.empty()) out["samples"] = fn->samples;
  return out;
}

nlohmann::json ViewModel::OfflineDocument() const {
  std::lock_guard<std::mutex> lock(mu_);
  nlohmann::json disasm = nlohmann::json::object();
  size_t n = 0;
  for (const Function& fn : functions_) {
    if (n++ >= kMaxInlinedDisassembly) break;
    Result<nlohmann::json> d = DisassemblyLocked(fn.start);
    disasm[HexAddress(fn.start)] = d ? *d : nlohmann::json{{"error", d.error()}};
  }
  return {{"state", BuildStateLocked()}, {"disasm", std::move(disasm)}};
}

}  // namespace jitscope
