#include "debuginfo/symbolizer.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <elfutils/libdw.h>

#include <algorithm>
#include <map>
#include <set>

namespace jitscope {
namespace {

constexpr int kPriorityNative = 0;
constexpr int kPriorityJit = 1;

// A read-only mapping of a whole file.
class MappedFile {
 public:
  bool Open(const std::string& path) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
      close(fd);
      return false;
    }
    void* p = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) return false;
    data_ = static_cast<const uint8_t*>(p);
    size_ = static_cast<size_t>(st.st_size);
    return true;
  }
  ~MappedFile() {
    if (data_) munmap(const_cast<uint8_t*>(data_), size_);
  }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace

void Symbolizer::AddSymbol(SymbolInfo symbol, int priority) {
  if (symbol.size == 0 || symbol.start + symbol.size < symbol.start) return;
  pending_.push_back(Pending{priority, symbol.timestamp, symbols_.size()});
  symbols_.push_back(std::move(symbol));
}

void Symbolizer::AddJit(const JitSnapshot& snapshot) {
  for (const DescriptorView& d : snapshot.descriptors) {
    for (const SnapshotEntry& e : d.entries) {
      if (!e.info) continue;
      for (const SymfileFunction& f : e.info->functions) {
        SymbolInfo s;
        s.start = f.address;
        s.size = f.size;
        s.name = f.name;
        s.jit = true;
        s.module = "[jit]";
        s.timestamp = e.timestamp;
        s.entry = e.entry_address;
        s.kind = e.info->kind;
        s.info = e.info;
        s.tier = f.tier;
        AddSymbol(std::move(s), kPriorityJit);
      }
    }
  }
}

void Symbolizer::AddModules(const std::vector<MapEntry>& maps, pid_t pid) {
  std::set<std::string> done;
  for (const MapEntry& map : maps) {
    if (!map.executable || !map.IsFileBacked() || map.path.starts_with("/memfd:") || done.count(map.path)) continue;
    done.insert(map.path);
    MappedFile file;
    // The target may live in another mount namespace, or the file may have
    // been replaced: map_files is the very file it mapped.
    bool opened = false;
    if (pid > 0) {
      char buf[96];
      snprintf(buf, sizeof(buf), "/proc/%d/map_files/%llx-%llx", pid, static_cast<unsigned long long>(map.start),
               static_cast<unsigned long long>(map.end));
      opened = file.Open(buf);
    }
    std::string opened_path;
    if (opened) {
      char buf[96];
      snprintf(buf, sizeof(buf), "/proc/%d/map_files/%llx-%llx", pid, static_cast<unsigned long long>(map.start),
               static_cast<unsigned long long>(map.end));
      opened_path = buf;
    }
    if (!opened) {
      opened = file.Open(map.path);
      opened_path = map.path;
    }
    if (!opened) {
      problems_.push_back("cannot read " + map.path);
      continue;
    }
    SymfileLimits limits;
    limits.read_lines = false;
    limits.max_functions = 4u << 20;
    Result<SymfileInfo> info = ParseSymfile(file.data(), file.size(), limits);
    if (!info) {
      problems_.push_back(map.path + ": " + info.error());
      continue;
    }
    // The load bias from the PT_LOAD that contains this mapping's offset.
    uint64_t bias = 0;
    bool found = false;
    for (const SymfileSegment& seg : info->segments) {
      uint64_t page_offset = seg.offset & ~uint64_t{0xfff};
      if (map.offset >= page_offset && map.offset < seg.offset + std::max<uint64_t>(seg.filesz, 1)) {
        bias = map.start - (seg.vaddr - (seg.offset - map.offset));
        found = true;
        break;
      }
    }
    if (!found) {
      problems_.push_back(map.path + ": no PT_LOAD covers file offset " + HexAddress(map.offset));
      continue;
    }
    if (info->elf_type == 2 /* ET_EXEC */) bias = 0;
    modules_.push_back(Module{opened_path, bias, false, -1, nullptr});
    int module_index = static_cast<int>(modules_.size() - 1);
    for (const SymfileFunction& f : info->functions) {
      SymbolInfo s;
      s.start = f.address + bias;
      s.size = f.size;
      s.name = f.name;
      s.module = map.path;
      s.module_index = module_index;
      AddSymbol(std::move(s), kPriorityNative);
    }
  }
}

void Symbolizer::Finish() {
  // Paint from the lowest priority (native, then oldest JIT) to the highest:
  // each new range cuts away what it covers.
  std::stable_sort(pending_.begin(), pending_.end(), [](const Pending& a, const Pending& b) {
    return a.priority != b.priority ? a.priority < b.priority : a.order < b.order;
  });
  std::map<uint64_t, Range> painted;  // by start
  for (const Pending& p : pending_) {
    const SymbolInfo& s = symbols_[p.index];
    uint64_t start = s.start, end = s.start + s.size;
    auto it = painted.upper_bound(start);
    if (it != painted.begin()) {
      auto prev = std::prev(it);
      if (prev->second.end > start) {
        Range left = prev->second;
        Range right = left;
        prev->second.end = start;
        if (prev->second.end == prev->second.start) painted.erase(prev);
        if (right.end > end) {
          right.start = end;
          painted[end] = right;
        }
      }
    }
    it = painted.lower_bound(start);
    while (it != painted.end() && it->first < end) {
      Range r = it->second;
      it = painted.erase(it);
      if (r.end > end) {
        r.start = end;
        painted[end] = r;
        break;
      }
    }
    painted[start] = Range{start, end, static_cast<int32_t>(p.index)};
  }
  pending_.clear();
  ranges_.clear();
  starts_.clear();
  ranges_.reserve(painted.size());
  for (auto& [start, r] : painted) {
    ranges_.push_back(r);
    starts_.push_back(r.start);
  }
}

std::optional<SymbolMatch> Symbolizer::Lookup(uint64_t address) const {
  auto it = std::upper_bound(starts_.begin(), starts_.end(), address);
  if (it == starts_.begin()) return std::nullopt;
  const Range& r = ranges_[static_cast<size_t>(it - starts_.begin() - 1)];
  if (address >= r.end) return std::nullopt;
  SymbolMatch m;
  m.symbol = &symbols_[static_cast<size_t>(r.symbol)];
  m.offset = address - m.symbol->start;
  if (m.symbol->info && !m.symbol->info->lines.empty()) m.source = LookupLine(*m.symbol->info, address);
  if (m.symbol->module_index >= 0) m.source = NativeLine(m.symbol->module_index, address);
  return m;
}

Symbolizer::~Symbolizer() {
  for (Module& m : modules_) {
    if (m.dwarf) dwarf_end(static_cast<Dwarf*>(m.dwarf));
    if (m.fd >= 0) close(m.fd);
  }
}

// Native source lines with libdw, for files that carry DWARF (ours are built
// RelWithDebInfo; Debian's libraries are stripped and give none). Opened on
// the first lookup in the module, never for batch lookups.
SourceLocation Symbolizer::NativeLine(int index, uint64_t address) const {
  Module& m = modules_[static_cast<size_t>(index)];
  if (!m.tried) {
    m.tried = true;
    m.fd = open(m.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (m.fd >= 0) m.dwarf = dwarf_begin(m.fd, DWARF_C_READ);
  }
  if (!m.dwarf) return {};
  Dwarf* dwarf = static_cast<Dwarf*>(m.dwarf);
  uint64_t file_address = address - m.bias;
  Dwarf_Die cu;
  if (dwarf_addrdie(dwarf, file_address, &cu) == nullptr) return {};
  Dwarf_Line* line = dwarf_getsrc_die(&cu, file_address);
  if (!line) return {};
  int lineno = 0;
  if (dwarf_lineno(line, &lineno) != 0 || lineno <= 0) return {};
  const char* file = dwarf_linesrc(line, nullptr, nullptr);
  return SourceLocation{file ? file : "", static_cast<uint32_t>(lineno)};
}

void Symbolizer::LookupBatch(const uint64_t* addresses, size_t n, int32_t* out) const {
  const uint64_t* begin = starts_.data();
  size_t count = starts_.size();
  for (size_t i = 0; i < n; i++) {
    uint64_t a = addresses[i];
    // Branch-light binary search for the last start <= a.
    const uint64_t* base = begin;
    size_t len = count;
    while (len > 1) {
      size_t half = len / 2;
      base = base[half] <= a ? base + half : base;
      len -= half;
    }
    int32_t result = -1;
    if (count > 0 && *base <= a) {
      const Range& r = ranges_[static_cast<size_t>(base - begin)];
      if (a < r.end) result = r.symbol;
    }
    out[i] = result;
  }
}

}  // namespace jitscope
