#include "native_unwind_table.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace jitscope {
namespace {

// Pointer encodings of .eh_frame_hdr (LSB, "Exception Frames").
constexpr uint8_t kPeUdata4 = 0x03;
constexpr uint8_t kPeUdata8 = 0x04;
constexpr uint8_t kPeSdata4 = 0x0b;
constexpr uint8_t kPeSdata8 = 0x0c;
constexpr uint8_t kPeAbsptr = 0x00;
constexpr uint8_t kPePcrel = 0x10;
constexpr uint8_t kPeDatarel = 0x30;
constexpr uint8_t kPeFormatMask = 0x0f;
constexpr uint8_t kPeApplicationMask = 0x70;
// The only table layout libunwind's binary search reads: datarel sdata4 pairs.
constexpr uint8_t kTableEncoding = kPeDatarel | kPeSdata4;
constexpr uint8_t kEhFrameHdrVersion = 1;
constexpr size_t kEhFrameHdrFixed = 4;
// More program headers than this is not a file a linker wrote.
constexpr size_t kMaxProgramHeaders = 1024;
// The vdso is two to four pages; larger [vdso] mappings are not the kernel's.
constexpr uint64_t kMaxVdsoSize = 64 * 1024;
constexpr uint64_t kPageSize = 4096;

uint64_t PageFloor(uint64_t v) { return v & ~(kPageSize - 1); }

std::string RangeName(const MapEntry& map) {
  auto hex = [](uint64_t v) { return HexAddress(v).substr(2); };
  return hex(map.start) + "-" + hex(map.end);
}

// A fixed-size field of .eh_frame_hdr; false for variable-length encodings.
bool ReadEncoded(const uint8_t* p, const uint8_t* end, uint8_t encoding, uint64_t field_address, uint64_t* value,
                 size_t* size) {
  int64_t v = 0;
  switch (encoding & kPeFormatMask) {
    case kPeUdata4: case kPeSdata4: *size = 4; break;
    case kPeUdata8: case kPeSdata8: case kPeAbsptr: *size = 8; break;
    default: return false;
  }
  if (end - p < static_cast<ptrdiff_t>(*size)) return false;
  if (*size == 4) {
    int32_t s;
    uint32_t u;
    memcpy(&s, p, 4);
    memcpy(&u, p, 4);
    v = (encoding & kPeFormatMask) == kPeSdata4 ? s : static_cast<int64_t>(u);
  } else {
    memcpy(&v, p, 8);
  }
  switch (encoding & kPeApplicationMask) {
    case 0: *value = static_cast<uint64_t>(v); return true;
    case kPePcrel: *value = field_address + static_cast<uint64_t>(v); return true;
    default: return false;
  }
}

}  // namespace

NativeUnwindTable::NativeUnwindTable(const std::vector<MapEntry>& maps, Memory& memory, ModuleFileResolver* files,
                                     pid_t pid)
    : maps_(maps), memory_(memory), files_(files), pid_(pid) {}

NativeUnwindTable::~NativeUnwindTable() {
  for (auto& [address, size] : mappings_) munmap(address, size);
}

bool NativeUnwindTable::OpenImage(const MapEntry& map, Module* module) {
  if (map.path == "[vdso]") {
    if (map.end - map.start > kMaxVdsoSize) return false;
    module->copy.resize(map.end - map.start);
    if (!memory_.ReadFully(map.start, module->copy.data(), module->copy.size())) return false;
    module->image = module->copy.data();
    module->size = module->copy.size();
    return true;
  }
  if (!map.IsFileBacked()) return false;
  std::vector<std::string> candidates;
  if (files_ != nullptr) {
    std::string p = files_->PathFor(map);
    if (!p.empty()) candidates.push_back(p);
  } else {
    if (!map.deleted) candidates.push_back(map.path);
    if (pid_ > 0) {
      std::string proc = "/proc/" + std::to_string(pid_);
      if (!map.deleted) candidates.push_back(proc + "/root" + map.path);
      candidates.push_back(proc + "/map_files/" + RangeName(map));
    }
  }
  for (const std::string& path : candidates) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    struct stat st{};
    // Offline copies have other inodes; a live path must be the mapped file.
    bool same = fstat(fd, &st) == 0 && (files_ != nullptr || static_cast<uint64_t>(st.st_ino) == map.inode);
    if (!same || st.st_size < static_cast<off_t>(sizeof(Elf64_Ehdr))) {
      close(fd);
      continue;
    }
    void* p = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) continue;
    mappings_.emplace_back(p, static_cast<size_t>(st.st_size));
    module->image = static_cast<const uint8_t*>(p);
    module->size = static_cast<size_t>(st.st_size);
    return true;
  }
  return false;
}

bool NativeUnwindTable::Describe(Module* m, const MapEntry& map) {
  const uint8_t* image = m->image;
  Elf64_Ehdr eh;
  memcpy(&eh, image, sizeof(eh));
  if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64 ||
      eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum > kMaxProgramHeaders || eh.e_phoff > m->size ||
      eh.e_phnum * sizeof(Elf64_Phdr) > m->size - eh.e_phoff)
    return false;
  std::vector<Elf64_Phdr> phdrs(eh.e_phnum);
  memcpy(phdrs.data(), image + eh.e_phoff, phdrs.size() * sizeof(Elf64_Phdr));
  // The bias from the mapping we were asked about: the segment whose file
  // pages it maps.
  bool have_bias = false;
  if (m->copy.empty()) {
    for (const Elf64_Phdr& ph : phdrs) {
      if (ph.p_type != PT_LOAD) continue;
      uint64_t file_start = PageFloor(ph.p_offset);
      if (map.offset < file_start || map.offset >= ph.p_offset + std::max(ph.p_filesz, uint64_t{1})) continue;
      m->bias = map.start - (PageFloor(ph.p_vaddr) + (map.offset - file_start));
      have_bias = true;
      break;
    }
    if (eh.e_type == ET_EXEC) m->bias = 0, have_bias = true;
  } else {
    m->bias = map.start;  // the vdso's image is linked at 0 and mapped whole
    have_bias = true;
  }
  if (!have_bias) return false;
  const Elf64_Phdr* hdr = nullptr;
  m->exec_start = UINT64_MAX;
  m->exec_end = 0;
  for (const Elf64_Phdr& ph : phdrs) {
    if (ph.p_type == PT_GNU_EH_FRAME) hdr = &ph;
    if (ph.p_type != PT_LOAD) continue;
    if (ph.p_flags & PF_X) {
      m->exec_start = std::min(m->exec_start, m->bias + ph.p_vaddr);
      m->exec_end = std::max(m->exec_end, m->bias + ph.p_vaddr + ph.p_memsz);
    }
    // Read-only segments are the file's bytes at run time; writable ones
    // (relocated data) come from the target, the file only as a fallback.
    if (ph.p_offset <= m->size && ph.p_filesz <= m->size - ph.p_offset)
      segments_.push_back(Segment{m->bias + ph.p_vaddr, m->bias + ph.p_vaddr + ph.p_filesz, image + ph.p_offset,
                                  (ph.p_flags & PF_W) != 0});
  }
  std::sort(segments_.begin(), segments_.end(), [](const Segment& a, const Segment& b) { return a.start < b.start; });
  if (hdr == nullptr || m->exec_start >= m->exec_end) return false;
  if (hdr->p_offset > m->size || hdr->p_filesz > m->size - hdr->p_offset || hdr->p_filesz < kEhFrameHdrFixed)
    return false;
  m->hdr_vaddr = hdr->p_vaddr;
  m->hdr_size = hdr->p_filesz;
  return true;
}

NativeUnwindTable::Module* NativeUnwindTable::ModuleFor(const MapEntry& map) {
  // Mappings of one file share a module (and its bias); the key includes
  // start - offset so two loads of the same file stay apart.
  std::string key = map.path + "@" + std::to_string(map.inode) + "@" + std::to_string(map.start - map.offset);
  // Each mapping of a file at a different offset gives the same bias only
  // through Describe, so look the module up by any mapping already seen.
  auto found = modules_.find(key);
  if (found != modules_.end()) return found->second.get();
  auto module = std::make_unique<Module>();
  module->key = key;
  if (OpenImage(map, module.get())) module->ok = Describe(module.get(), map);
  Module* raw = module.get();
  modules_.emplace(key, std::move(module));
  return raw;
}

std::optional<unw_dyn_info_t> NativeUnwindTable::Find(uint64_t pc) {
  auto it = std::upper_bound(maps_.begin(), maps_.end(), pc, [](uint64_t v, const MapEntry& m) { return v < m.start; });
  if (it == maps_.begin()) return std::nullopt;
  --it;
  if (pc >= it->end || !it->executable) return std::nullopt;
  Module* m = ModuleFor(*it);
  if (!m->ok || pc < m->exec_start || pc >= m->exec_end) return std::nullopt;
  const uint8_t* hdr = nullptr;
  // The header lies in a read-only segment; find its bytes there.
  uint64_t hdr_address = m->bias + m->hdr_vaddr;
  for (const Segment& s : segments_)
    if (hdr_address >= s.start && hdr_address + m->hdr_size <= s.end) hdr = s.bytes + (hdr_address - s.start);
  if (hdr == nullptr) return std::nullopt;
  const uint8_t* end = hdr + m->hdr_size;
  if (hdr[0] != kEhFrameHdrVersion || hdr[3] != kTableEncoding) return std::nullopt;
  uint64_t eh_frame = 0, count = 0;
  size_t size1 = 0, size2 = 0;
  const uint8_t* p = hdr + kEhFrameHdrFixed;
  if (!ReadEncoded(p, end, hdr[1], hdr_address + kEhFrameHdrFixed, &eh_frame, &size1)) return std::nullopt;
  p += size1;
  if (!ReadEncoded(p, end, hdr[2], hdr_address + kEhFrameHdrFixed + size1, &count, &size2)) return std::nullopt;
  p += size2;
  uint64_t table_offset = static_cast<uint64_t>(p - hdr);
  // Each entry is two sdata4 values.
  if (count > (m->hdr_size - table_offset) / 8) return std::nullopt;
  unw_dyn_info_t di{};
  di.format = UNW_INFO_FORMAT_REMOTE_TABLE;
  di.start_ip = m->exec_start;
  di.end_ip = m->exec_end;
  di.u.rti.name_ptr = 0;
  di.u.rti.segbase = hdr_address;
  di.u.rti.table_data = hdr_address + table_offset;
  di.u.rti.table_len = count * 8 / sizeof(unw_word_t);
  return di;
}

size_t NativeUnwindTable::ReadSegments(uint64_t addr, void* dst, size_t n, bool writable) {
  auto it = std::upper_bound(segments_.begin(), segments_.end(), addr,
                             [](uint64_t v, const Segment& s) { return v < s.start; });
  if (it == segments_.begin()) return 0;
  --it;
  if (addr >= it->end || it->writable != writable) return 0;
  n = std::min<uint64_t>(n, it->end - addr);
  memcpy(dst, it->bytes + (addr - it->start), n);
  return n;
}

}  // namespace jitscope
