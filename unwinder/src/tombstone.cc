#include "unwinder/tombstone.h"

#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cxxabi.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "debuginfo/atomic_file.h"
#include "debuginfo/map_entry_json.h"

namespace jitscope {

namespace {

// Register names in the order of struct Registers (= user_regs_struct).
constexpr const char* kRegisterNames[] = {"r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9",
                                          "r8",  "rax", "rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs",
                                          "eflags", "rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs"};
constexpr size_t kRegisterCount = sizeof(Registers) / sizeof(uint64_t);
static_assert(sizeof(kRegisterNames) / sizeof(kRegisterNames[0]) == kRegisterCount);
// The registers a human wants to see (the segment registers rarely matter).
constexpr const char* kShownRegisters[] = {"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8",
                                           "r9",  "r10", "r11", "r12", "r13", "r14", "r15", "rip", "eflags"};
// A frame larger than this ends the frame-pointer walk (a garbage rbp).
constexpr uint64_t kMaxFrameSize = uint64_t{1} << 20;
// Bytes shown per "memory near" block.
constexpr size_t kMemoryDumpLines = 16;

std::string Demangle(const std::string& name) {
  if (name.rfind("_Z", 0) != 0) return name;
  int status = 0;
  char* out = abi::__cxa_demangle(name.c_str(), nullptr, nullptr, &status);
  if (status != 0 || !out) return name;
  std::string result = out;
  free(out);
  return result;
}

uint64_t* RegisterSlot(Registers& regs, size_t i) { return reinterpret_cast<uint64_t*>(&regs) + i; }
uint64_t RegisterValue(const Registers& regs, size_t i) { return reinterpret_cast<const uint64_t*>(&regs)[i]; }
std::optional<size_t> RegisterIndex(const std::string& name) {
  for (size_t i = 0; i < kRegisterCount; i++)
    if (name == kRegisterNames[i]) return i;
  return std::nullopt;
}

std::string Hex16(uint64_t v) {
  char buf[24];
  snprintf(buf, sizeof(buf), "%016" PRIx64, v);
  return buf;
}


const MapEntry* FindMap(const std::vector<MapEntry>& maps, uint64_t address) {
  for (const MapEntry& m : maps)
    if (address >= m.start && address < m.end) return &m;
  return nullptr;
}

std::string ReadFileBytes(const std::string& path, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot open " + path + ": " + strerror(errno);
    return {};
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void HexDump(std::ostringstream& out, uint64_t address, const std::vector<uint8_t>& bytes) {
  for (size_t off = 0; off < bytes.size(); off += 16) {
    out << "    " << Hex16(address + off) << " ";
    std::string ascii;
    for (size_t i = 0; i < 16; i++) {
      if (off + i < bytes.size()) {
        char b[4];
        snprintf(b, sizeof(b), " %02x", bytes[off + i]);
        out << b;
        unsigned char c = bytes[off + i];
        ascii += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '.';
      } else {
        out << "   ";
      }
    }
    out << "  " << ascii << "\n";
  }
}

void RenderRegisters(std::ostringstream& out, const Registers& regs) {
  int col = 0;
  for (const char* name : kShownRegisters) {
    char buf[48];
    snprintf(buf, sizeof(buf), "  %6s %016" PRIx64, name, RegisterValue(regs, *RegisterIndex(name)));
    out << (col == 0 ? "  " : "") << buf;
    if (++col == 4) {
      out << "\n";
      col = 0;
    }
  }
  if (col) out << "\n";
}

}  // namespace

const char* SignalName(int signal) {
  switch (signal) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGILL: return "SIGILL";
    case SIGFPE: return "SIGFPE";
    case SIGABRT: return "SIGABRT";
    case SIGTRAP: return "SIGTRAP";
    case SIGSYS: return "SIGSYS";
    case SIGKILL: return "SIGKILL";
    default: return "?";
  }
}

std::string SignalCodeName(int signal, int code) {
  switch (code) {
    case SI_USER: return "SI_USER";
    case SI_QUEUE: return "SI_QUEUE";
    case SI_TKILL: return "SI_TKILL";
    case SI_KERNEL: return "SI_KERNEL";
    default: break;
  }
  switch (signal) {
    case SIGSEGV:
      if (code == SEGV_MAPERR) return "SEGV_MAPERR";
      if (code == SEGV_ACCERR) return "SEGV_ACCERR";
      break;
    case SIGBUS:
      if (code == BUS_ADRALN) return "BUS_ADRALN";
      if (code == BUS_ADRERR) return "BUS_ADRERR";
      if (code == BUS_OBJERR) return "BUS_OBJERR";
      break;
    case SIGILL:
      if (code == ILL_ILLOPC) return "ILL_ILLOPC";
      if (code == ILL_ILLOPN) return "ILL_ILLOPN";
      if (code == ILL_ILLADR) return "ILL_ILLADR";
      if (code == ILL_PRVOPC) return "ILL_PRVOPC";
      break;
    case SIGFPE:
      if (code == FPE_INTDIV) return "FPE_INTDIV";
      if (code == FPE_INTOVF) return "FPE_INTOVF";
      if (code == FPE_FLTDIV) return "FPE_FLTDIV";
      break;
    case SIGTRAP:
      if (code == TRAP_BRKPT) return "TRAP_BRKPT";
      if (code == TRAP_TRACE) return "TRAP_TRACE";
      break;
    default: break;
  }
  return "";
}

std::string ReadBuildId(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  // Bounds the notes we look at: build-id notes are tens of bytes.
  constexpr size_t kMaxNoteBytes = 64 * 1024;
  std::string result;
  Elf64_Ehdr eh;
  if (pread(fd, &eh, sizeof(eh), 0) == sizeof(eh) && memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
      eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_phentsize == sizeof(Elf64_Phdr) && eh.e_phnum < 256) {
    std::vector<Elf64_Phdr> ph(eh.e_phnum);
    ssize_t want = static_cast<ssize_t>(ph.size() * sizeof(Elf64_Phdr));
    if (pread(fd, ph.data(), static_cast<size_t>(want), static_cast<off_t>(eh.e_phoff)) == want) {
      for (const Elf64_Phdr& p : ph) {
        if (p.p_type != PT_NOTE || p.p_filesz > kMaxNoteBytes || !result.empty()) continue;
        std::vector<uint8_t> notes(p.p_filesz);
        if (pread(fd, notes.data(), notes.size(), static_cast<off_t>(p.p_offset)) != static_cast<ssize_t>(notes.size()))
          continue;
        size_t off = 0;
        while (off + sizeof(Elf64_Nhdr) <= notes.size()) {
          Elf64_Nhdr nh;
          memcpy(&nh, notes.data() + off, sizeof(nh));
          size_t name_off = off + sizeof(nh);
          size_t desc_off = name_off + ((nh.n_namesz + 3) & ~size_t{3});
          size_t next = desc_off + ((nh.n_descsz + 3) & ~size_t{3});
          if (next > notes.size() || next <= off) break;
          if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 && memcmp(notes.data() + name_off, "GNU", 4) == 0) {
            char b[4];
            for (size_t i = 0; i < nh.n_descsz; i++) {
              snprintf(b, sizeof(b), "%02x", notes[desc_off + i]);
              result += b;
            }
            break;
          }
          off = next;
        }
      }
    }
  }
  close(fd);
  return result;
}

// ------------------------------------------------------------------ files --

TombstoneFileResolver::TombstoneFileResolver(const Tombstone& tombstone, std::string symbols_dir) {
  for (const TombstoneModule& m : tombstone.modules) build_ids_[m.path] = m.build_id;
  if (symbols_dir.empty()) return;
  // Index DIR (and DIR/.build-id/xx/) by build-id: a few hundred files at most.
  constexpr size_t kMaxScannedFiles = 4096;
  std::vector<std::string> dirs{symbols_dir};
  size_t scanned = 0;
  for (size_t d = 0; d < dirs.size() && scanned < kMaxScannedFiles; d++) {
    DIR* dir = opendir(dirs[d].c_str());
    if (!dir) continue;
    while (dirent* e = readdir(dir)) {
      std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      std::string full = dirs[d] + "/" + name;
      struct stat st;
      if (stat(full.c_str(), &st) != 0) continue;
      if (S_ISDIR(st.st_mode)) {
        if (dirs.size() < 512) dirs.push_back(full);
        continue;
      }
      if (!S_ISREG(st.st_mode) || ++scanned > kMaxScannedFiles) continue;
      std::string id = ReadBuildId(full);
      if (!id.empty() && !by_build_id_.count(id)) by_build_id_[id] = full;
    }
    closedir(dir);
  }
}

std::string TombstoneFileResolver::Resolve(const std::string& original) {
  auto cached = cache_.find(original);
  if (cached != cache_.end()) return cached->second;
  std::string found;
  auto id = build_ids_.find(original);
  std::string want = id == build_ids_.end() ? "" : id->second;
  if (!want.empty()) {
    auto hit = by_build_id_.find(want);
    if (hit != by_build_id_.end()) {
      found = hit->second;
    } else if (ReadBuildId(original) == want) {
      found = original;
    }
  } else if (access(original.c_str(), R_OK) == 0) {
    found = original;  // no build-id recorded: the path is all we have
  }
  cache_[original] = found;
  return found;
}

std::string TombstoneFileResolver::PathFor(const MapEntry& map) {
  if (!map.IsFileBacked()) return "";
  return Resolve(map.path);
}

// ------------------------------------------------------------- symbolize --

void AddTombstoneSymbols(const Tombstone& t, TombstoneFileResolver* resolver, Symbolizer* symbolizer) {
  if (t.snapshot) symbolizer->AddJit(t.snapshot->jit);
  for (const JitRange& r : t.jit_ranges) {
    SymbolInfo s;
    s.start = r.start;
    s.size = r.end - r.start;
    s.name = r.name;
    s.jit = true;
    s.module = "[jit]";
    symbolizer->AddSymbol(std::move(s), /*priority=*/2);
  }
  std::vector<MapEntry> maps;
  for (MapEntry m : t.maps) {
    if (!m.IsFileBacked()) continue;
    std::string path = resolver ? resolver->Resolve(m.path) : m.path;
    if (path.empty()) continue;
    m.path = path;
    maps.push_back(std::move(m));
  }
  symbolizer->AddModules(maps, 0);
  symbolizer->Finish();
}

std::vector<SymbolizedFrame> SymbolizeFrames(const std::vector<TombstoneFrame>& frames, Symbolizer& symbolizer,
                                             const std::vector<MapEntry>& maps) {
  std::vector<SymbolizedFrame> out;
  for (size_t i = 0; i < frames.size(); i++) {
    SymbolizedFrame f;
    f.pc = frames[i].pc;
    f.sp = frames[i].sp;
    f.method = frames[i].method;
    f.skipped = frames[i].skipped;
    // A return address points after the call, possibly past the caller's
    // end: look the call itself up.
    uint64_t lookup = i > 0 && f.pc > 0 ? f.pc - 1 : f.pc;
    if (std::optional<SymbolMatch> m = symbolizer.Lookup(lookup)) {
      f.jit = m->symbol->jit;
      f.module = m->symbol->jit ? "[jit]" : m->symbol->module;
      f.function = m->symbol->jit ? m->symbol->name : Demangle(m->symbol->name);
      f.offset = f.pc - m->symbol->start;
      if (!m->source.file.empty()) f.source = m->source.file + ":" + std::to_string(m->source.line);
    }
    if (f.module.empty()) {
      if (const MapEntry* map = FindMap(maps, lookup)) f.module = map->path.empty() ? "<anonymous>" : map->path;
    }
    out.push_back(std::move(f));
  }
  return out;
}

std::string FormatFrame(size_t index, const SymbolizedFrame& f) {
  char head[48];
  snprintf(head, sizeof(head), "    #%02zu pc %016" PRIx64 "  ", index, f.pc);
  std::string line = head;
  if (f.jit) {
    char off[24];
    snprintf(off, sizeof(off), "+0x%" PRIx64, f.offset);
    line += "[jit] " + f.function + off;
  } else {
    line += f.module.empty() ? "??" : f.module;
    if (!f.function.empty()) {
      char off[24];
      snprintf(off, sizeof(off), "+0x%" PRIx64, f.offset);
      line += " (" + f.function + off + ")";
    }
  }
  if (!f.source.empty()) line += " (" + f.source + ")";
  return line;
}

std::string RenderTombstoneText(const Tombstone& t, Symbolizer& symbolizer) {
  std::ostringstream out;
  out << "*** *** *** *** *** *** *** *** *** *** *** *** *** *** *** ***\n";
  out << "jitscope tombstone, version " << t.version << (t.minimal ? " (minimal)" : "") << "\n";
  if (t.realtime_s) {
    time_t when = static_cast<time_t>(t.realtime_s);
    tm utc{};
    gmtime_r(&when, &utc);
    char buf[64];
    strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &utc);
    out << "Timestamp: " << buf << "\n";
  }
  if (t.signal_time_ns && t.dump_time_ns >= t.signal_time_ns)
    out << "Dump took: " << (t.dump_time_ns - t.signal_time_ns) / 1000000.0 << " ms after the signal\n";
  out << "Cmdline: " << t.cmdline << "\n";
  const TombstoneThread* crashed = nullptr;
  for (const TombstoneThread& th : t.threads)
    if (th.crashed) crashed = &th;
  out << "pid: " << t.pid << ", tid: " << t.tid << ", name: " << (crashed ? crashed->name : "?") << "  >>> " << t.comm
      << " <<<\n";
  std::string code = SignalCodeName(t.signal, t.si_code);
  out << "signal " << t.signal << " (" << SignalName(t.signal) << "), code " << t.si_code;
  if (!code.empty()) out << " (" << code << ")";
  if (t.si_code <= 0) {
    // Sent by a process (kill, tgkill, abort's raise): the siginfo holds
    // the sender, not an address.
    out << ", from pid " << (t.fault_address & 0xffffffffu) << ", uid " << (t.fault_address >> 32) << "\n";
  } else {
    out << ", fault addr " << HexAddress(t.fault_address) << "\n";
  }
  if (t.snapshot) {
    JitSnapshot::Totals totals = t.snapshot->jit.totals();
    out << "JIT: " << totals.entries << " debug-info entries, " << totals.functions << " functions registered\n";
  }

  auto render_thread = [&](const TombstoneThread& th) {
    RenderRegisters(out, th.regs);
    if (!th.error.empty()) out << "  (" << th.error << ")\n";
    out << "\nbacktrace:\n";
    std::vector<SymbolizedFrame> frames = SymbolizeFrames(th.frames, symbolizer, t.maps);
    for (size_t i = 0; i < frames.size(); i++) {
      if (frames[i].skipped) out << "    ... " << frames[i].skipped << " frames of recursion skipped ...\n";
      out << FormatFrame(i, frames[i]) << "\n";
    }
  };
  if (crashed) render_thread(*crashed);
  for (const TombstoneMemory& m : t.memory) {
    if (m.label.rfind("near ", 0) != 0) continue;
    const MapEntry* map = FindMap(t.maps, m.address);
    out << "\nmemory " << m.label;
    if (map) out << " (" << (map->path.empty() ? "<anonymous>" : map->path) << ")";
    out << ":\n";
    std::vector<uint8_t> shown(m.bytes.begin(), m.bytes.begin() + static_cast<std::ptrdiff_t>(
                                                                       std::min(m.bytes.size(), kMemoryDumpLines * 16)));
    HexDump(out, m.address, shown);
  }
  for (const TombstoneThread& th : t.threads) {
    if (th.crashed) continue;
    out << "\n--- --- --- --- --- --- --- --- --- --- --- --- --- --- --- ---\n";
    out << "pid: " << t.pid << ", tid: " << th.tid << ", name: " << th.name << "  >>> " << t.comm << " <<<\n";
    render_thread(th);
  }
  if (!t.maps.empty()) {
    std::map<std::string, std::string> ids;
    for (const TombstoneModule& m : t.modules) ids[m.path] = m.build_id;
    out << "\nmemory map (" << t.maps.size() << " entries):\n";
    for (const MapEntry& m : t.maps) {
      char buf[96];
      snprintf(buf, sizeof(buf), "    %012" PRIx64 "-%012" PRIx64 " %s %8" PRIx64 " ", m.start, m.end, m.Perms().c_str(),
               m.offset);
      out << buf << m.path << (m.deleted ? " (deleted)" : "");
      auto id = ids.find(m.path);
      if (id != ids.end() && !id->second.empty() && m.executable) out << " (BuildId: " << id->second << ")";
      out << "\n";
    }
  }
  return out.str();
}

// ---------------------------------------------------------------- unwind --

std::vector<TombstoneFrame> FramePointerWalk(Memory& memory, const Registers& regs, size_t max_frames) {
  std::vector<TombstoneFrame> frames;
  frames.push_back({regs.rip, regs.rsp, "registers", 0});
  uint64_t fp = regs.rbp, sp = regs.rsp;
  while (frames.size() < max_frames) {
    if (fp < sp || fp - sp > kMaxFrameSize || (fp & 7)) break;
    uint64_t pair[2];
    if (!memory.ReadFully(fp, pair, sizeof(pair)) || pair[1] == 0) break;
    frames.push_back({pair[1], fp + 16, "frame-pointer", 0});
    sp = fp + 16;
    fp = pair[0];
  }
  return frames;
}

std::vector<TombstoneFrame> UnwindTombstoneThread(Memory& memory, const std::vector<MapEntry>& maps,
                                                  const JitSnapshot& jit, const Registers& regs,
                                                  const UnwindOptions& options, std::string* error) {
  Result<std::vector<UnwoundFrame>> unwound = UnwindStack(memory, maps, jit, regs, options);
  if (unwound && !unwound->empty()) {
    std::vector<TombstoneFrame> frames;
    for (const UnwoundFrame& f : *unwound) frames.push_back({f.pc, f.sp, UnwindMethodName(f.method), 0});
    return frames;
  }
  if (!unwound && error) *error = "unwinder: " + unwound.error() + "; frame-pointer walk instead";
  return FramePointerWalk(memory, regs, options.max_frames);
}

std::unique_ptr<SnapshotMemory> TombstoneAddressSpace(const Tombstone& t) {
  // Regions may overlap (a code window inside a captured function, a
  // register window inside the stack); they come from one stopped moment,
  // so merge them into disjoint runs.
  std::vector<std::pair<uint64_t, const std::vector<uint8_t>*>> parts;
  for (const TombstoneMemory& m : t.memory) parts.emplace_back(m.address, &m.bytes);
  if (t.snapshot)
    for (const auto& [address, bytes] : t.snapshot->code.regions()) parts.emplace_back(address, &bytes);
  std::sort(parts.begin(), parts.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  auto space = std::make_unique<SnapshotMemory>();
  uint64_t run_start = 0;
  std::vector<uint8_t> run;
  for (const auto& [address, bytes] : parts) {
    if (bytes->empty()) continue;
    if (!run.empty() && address <= run_start + run.size()) {
      uint64_t end = address + bytes->size();
      if (end > run_start + run.size()) {
        size_t skip = static_cast<size_t>(run_start + run.size() - address);
        run.insert(run.end(), bytes->begin() + static_cast<std::ptrdiff_t>(skip), bytes->end());
      }
      continue;
    }
    if (!run.empty()) space->AddRegion(run_start, std::move(run));
    run_start = address;
    run = *bytes;
  }
  if (!run.empty()) space->AddRegion(run_start, std::move(run));
  return space;
}

// ------------------------------------------------------------ write/read --

Result<bool> WriteTombstone(const Tombstone& t, const std::string& path) {
  std::string blobs;
  auto add_blob = [&blobs](const void* data, size_t size, nlohmann::json& j) {
    j["blob_offset"] = blobs.size();
    j["blob_size"] = size;
    blobs.append(static_cast<const char*>(data), size);
  };
  nlohmann::json doc{{"format", "jitscope-tombstone"},
                     {"version", t.version},
                     {"kind", t.minimal ? "minimal" : "full"},
                     {"pid", t.pid},
                     {"tid", t.tid},
                     {"comm", t.comm},
                     {"cmdline", t.cmdline},
                     {"signal",
                      {{"number", t.signal},
                       {"name", SignalName(t.signal)},
                       {"code", t.si_code},
                       {"code_name", SignalCodeName(t.signal, t.si_code)},
                       {"fault_address", HexAddress(t.fault_address)}}},
                     {"signal_time_ns", t.signal_time_ns},
                     {"dump_time_ns", t.dump_time_ns},
                     {"realtime_s", t.realtime_s},
                     {"jit_entries", t.jit_entries}};
  if (t.minimal) doc["minimal_reason"] = t.minimal_reason;
  nlohmann::json threads = nlohmann::json::array();
  for (const TombstoneThread& th : t.threads) {
    nlohmann::json regs = nlohmann::json::object();
    for (size_t i = 0; i < kRegisterCount; i++) regs[kRegisterNames[i]] = HexAddress(RegisterValue(th.regs, i));
    nlohmann::json frames = nlohmann::json::array();
    for (const TombstoneFrame& f : th.frames) {
      nlohmann::json fj{{"pc", HexAddress(f.pc)}, {"sp", HexAddress(f.sp)}, {"method", f.method}};
      if (f.skipped) fj["skipped"] = f.skipped;
      frames.push_back(std::move(fj));
    }
    nlohmann::json j{{"tid", th.tid}, {"name", th.name}, {"crashed", th.crashed}, {"registers", regs}, {"frames", frames}};
    if (!th.error.empty()) j["error"] = th.error;
    threads.push_back(std::move(j));
  }
  doc["threads"] = std::move(threads);
  nlohmann::json maps = nlohmann::json::array();
  for (const MapEntry& m : t.maps) maps.push_back(MapEntryToJson(m));
  doc["maps"] = std::move(maps);
  nlohmann::json modules = nlohmann::json::array();
  for (const TombstoneModule& m : t.modules) modules.push_back({{"path", m.path}, {"build_id", m.build_id}});
  doc["build_ids"] = std::move(modules);
  nlohmann::json memory = nlohmann::json::array();
  for (const TombstoneMemory& m : t.memory) {
    nlohmann::json j{{"address", HexAddress(m.address)}, {"label", m.label}};
    add_blob(m.bytes.data(), m.bytes.size(), j);
    memory.push_back(std::move(j));
  }
  doc["memory"] = std::move(memory);
  nlohmann::json ranges = nlohmann::json::array();
  for (const JitRange& r : t.jit_ranges)
    ranges.push_back({{"start", HexAddress(r.start)}, {"end", HexAddress(r.end)}, {"name", r.name}});
  doc["jit_ranges"] = std::move(ranges);

  if (t.snapshot) {
    // The embedded snapshot is a snapshot file byte for byte: write it next
    // to the tombstone, take its bytes, remove it.
    std::string tmp = path + ".snapshot.tmp." + std::to_string(getpid());
    Result<bool> written = WriteSnapshotFile(*t.snapshot, tmp);
    if (!written) return Error{"cannot embed the JIT snapshot: " + written.error()};
    std::string error;
    std::string bytes = ReadFileBytes(tmp, &error);
    unlink(tmp.c_str());
    if (!error.empty()) return Error{"cannot embed the JIT snapshot: " + error};
    nlohmann::json j = nlohmann::json::object();
    add_blob(bytes.data(), bytes.size(), j);
    doc["snapshot"] = std::move(j);
  }

  std::string text = t.text;
  if (text.empty()) {
    Symbolizer symbolizer;
    AddTombstoneSymbols(t, nullptr, &symbolizer);
    text = RenderTombstoneText(t, symbolizer);
  }
  text += "\n--- machine-readable part (JSON) follows ---\n";
  std::string json = doc.dump() + "\n";
  char header[kTombstoneHeaderSize + 1];
  snprintf(header, sizeof(header), "%s v%u text=%016zx json=%016zx blob=%016zx\n", kTombstoneMagic, kTombstoneVersion,
           text.size(), json.size(), blobs.size());

  return WriteFileAtomically(path, {std::string_view(header, kTombstoneHeaderSize), text, json, blobs});
}

Result<Tombstone> ReadTombstone(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return Error{"cannot open " + path + ": " + strerror(errno)};
  if (!S_ISREG(st.st_mode)) return Error{path + " is not a regular file"};
  if (static_cast<uint64_t>(st.st_size) > kMaxTombstoneBytes) return Error{path + ": larger than any tombstone we write"};
  std::string error;
  std::string file = ReadFileBytes(path, &error);
  if (!error.empty()) return Error{error};
  if (file.size() < 8 || memcmp(file.data(), kTombstoneMagic, 8) != 0)
    return Error{path + ": not a jitscope tombstone (bad magic)"};
  if (file.size() < kTombstoneHeaderSize) return Error{path + ": truncated tombstone (incomplete header)"};
  unsigned version = 0;
  char text_hex[17] = {}, json_hex[17] = {}, blob_hex[17] = {};
  if (sscanf(file.c_str(), "JSCPTOMB v%u text=%16[0-9a-f] json=%16[0-9a-f] blob=%16[0-9a-f]", &version, text_hex,
             json_hex, blob_hex) != 4 ||
      file[kTombstoneHeaderSize - 1] != '\n')
    return Error{path + ": corrupt tombstone header"};
  if (version != kTombstoneVersion)
    return Error{path + ": tombstone version " + std::to_string(version) + " (this jitscope reads version " +
                 std::to_string(kTombstoneVersion) + ")"};
  uint64_t text_size = strtoull(text_hex, nullptr, 16), json_size = strtoull(json_hex, nullptr, 16),
           blob_size = strtoull(blob_hex, nullptr, 16);
  uint64_t body = file.size() - kTombstoneHeaderSize;
  if (text_size > body || json_size > body - text_size || blob_size != body - text_size - json_size)
    return Error{path + ": truncated or corrupt tombstone (its sizes do not match the file: " +
                 std::to_string(file.size()) + " bytes, header says " +
                 std::to_string(kTombstoneHeaderSize + text_size + json_size + blob_size) + ")"};
  const char* blobs = file.data() + kTombstoneHeaderSize + text_size + json_size;
  Tombstone t;
  t.text = file.substr(kTombstoneHeaderSize, text_size);
  try {
    nlohmann::json doc = nlohmann::json::parse(file.begin() + static_cast<std::ptrdiff_t>(kTombstoneHeaderSize + text_size),
                                               file.begin() + static_cast<std::ptrdiff_t>(kTombstoneHeaderSize + text_size + json_size));
    auto blob = [&](const nlohmann::json& j) -> std::string {
      uint64_t off = j.at("blob_offset").get<uint64_t>(), n = j.at("blob_size").get<uint64_t>();
      if (off > blob_size || n > blob_size - off) throw std::runtime_error("a blob lies outside the blob area");
      return std::string(blobs + off, n);
    };
    if (doc.at("format").get<std::string>() != "jitscope-tombstone") throw std::runtime_error("unknown format");
    t.version = doc.at("version").get<uint32_t>();
    t.minimal = doc.at("kind").get<std::string>() == "minimal";
    t.minimal_reason = doc.value("minimal_reason", "");
    t.pid = doc.at("pid").get<int>();
    t.tid = doc.at("tid").get<int>();
    t.comm = doc.value("comm", "");
    t.cmdline = doc.value("cmdline", "");
    const nlohmann::json& sig = doc.at("signal");
    t.signal = sig.at("number").get<int>();
    t.si_code = sig.value("code", 0);
    t.fault_address = ParseHexJson(sig.at("fault_address"));
    t.signal_time_ns = doc.value("signal_time_ns", uint64_t{0});
    t.dump_time_ns = doc.value("dump_time_ns", uint64_t{0});
    t.realtime_s = doc.value("realtime_s", uint64_t{0});
    t.jit_entries = doc.value("jit_entries", uint64_t{0});
    for (const nlohmann::json& j : doc.at("threads")) {
      TombstoneThread th;
      th.tid = j.at("tid").get<int>();
      th.name = j.value("name", "");
      th.crashed = j.value("crashed", false);
      th.error = j.value("error", "");
      for (const auto& [name, value] : j.at("registers").items())
        if (std::optional<size_t> i = RegisterIndex(name)) *RegisterSlot(th.regs, *i) = ParseHexJson(value);
      for (const nlohmann::json& f : j.at("frames"))
        th.frames.push_back({ParseHexJson(f.at("pc")), ParseHexJson(f.at("sp")), f.value("method", ""),
                             f.value("skipped", uint64_t{0})});
      t.threads.push_back(std::move(th));
    }
    if (doc.contains("maps"))
      for (const nlohmann::json& m : doc.at("maps")) t.maps.push_back(MapEntryFromJson(m));
    if (t.maps.empty() && doc.contains("maps_text")) {
      // Minimal tombstones carry /proc/PID/maps as the kernel wrote it.
      Result<std::vector<MapEntry>> maps = ParseProcessMaps(doc.at("maps_text").get<std::string>());
      if (!maps) throw std::runtime_error("maps_text: " + maps.error());
      t.maps = std::move(*maps);
    }
    if (doc.contains("build_ids"))
      for (const nlohmann::json& m : doc.at("build_ids"))
        t.modules.push_back({m.at("path").get<std::string>(), m.at("build_id").get<std::string>()});
    if (doc.contains("memory"))
      for (const nlohmann::json& m : doc.at("memory")) {
        std::string bytes = blob(m);
        t.memory.push_back({ParseHexJson(m.at("address")), m.value("label", ""), std::vector<uint8_t>(bytes.begin(), bytes.end())});
      }
    if (doc.contains("jit_ranges"))
      for (const nlohmann::json& r : doc.at("jit_ranges")) {
        JitRange range{ParseHexJson(r.at("start")), ParseHexJson(r.at("end")), r.at("name").get<std::string>()};
        if (range.end < range.start) throw std::runtime_error("a JIT range ends before it starts");
        t.jit_ranges.push_back(std::move(range));
      }
    if (doc.contains("snapshot")) {
      std::string bytes = blob(doc.at("snapshot"));
      // ReadSnapshotFile reads files: hand it an anonymous one, nothing on disk.
      int fd = memfd_create("jitscope-tombstone-snapshot", MFD_CLOEXEC);
      if (fd < 0) throw std::runtime_error(std::string("memfd_create: ") + strerror(errno));
      bool wrote = true;
      for (size_t done = 0; wrote && done < bytes.size();) {
        ssize_t w = write(fd, bytes.data() + done, bytes.size() - done);
        if (w < 0 && errno == EINTR) continue;
        wrote = w > 0;
        if (wrote) done += static_cast<size_t>(w);
      }
      Result<ProcessSnapshot> snap = wrote ? ReadSnapshotFile("/proc/self/fd/" + std::to_string(fd))
                                           : Result<ProcessSnapshot>(Error{"cannot copy it"});
      close(fd);
      if (!snap) {
        std::string message = snap.error();
        std::string prefix = "/proc/self/fd/" + std::to_string(fd) + ": ";
        if (message.rfind(prefix, 0) == 0) message = message.substr(prefix.size());
        throw std::runtime_error("embedded JIT snapshot: " + message);
      }
      t.snapshot = std::make_unique<ProcessSnapshot>(std::move(*snap));
    }
  } catch (const std::exception& e) {
    return Error{path + ": corrupt tombstone: " + e.what()};
  }
  if (t.threads.empty()) return Error{path + ": corrupt tombstone: no threads"};
  return t;
}

}  // namespace jitscope
