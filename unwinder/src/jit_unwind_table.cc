#include "jit_unwind_table.h"

#include <gelf.h>
#include <libelf.h>
#include <lzma.h>

#include <algorithm>
#include <cstring>

namespace jitscope {
namespace {

// .gnu_debugdata of a 64 KiB code range decompresses to tens of KiB; this
// bounds a hostile file (the same figure as SymfileLimits::max_decompressed).
constexpr uint64_t kMaxDecompressed = uint64_t{64} << 20;
// Ranges of different entries overlap only where packed groups still hold
// symbols of freed code; a pc is covered by a handful of entries at most.
constexpr size_t kMaxOverlapScan = 256;
// liblzma's decoder memory: xz presets need at most ~65 MiB at -9.
constexpr uint64_t kLzmaMemoryLimit = uint64_t{128} << 20;

struct ElfCloser {
  void operator()(Elf* elf) const { elf_end(elf); }
};

bool XzDecode(const uint8_t* data, size_t size, std::vector<uint8_t>* out, std::string* error) {
  lzma_stream stream = LZMA_STREAM_INIT;
  if (lzma_stream_decoder(&stream, kLzmaMemoryLimit, LZMA_CONCATENATED) != LZMA_OK) {
    *error = "cannot start the xz decoder";
    return false;
  }
  stream.next_in = data;
  stream.avail_in = size;
  out->clear();
  constexpr size_t kChunk = 64 * 1024;
  lzma_ret ret = LZMA_OK;
  while (ret == LZMA_OK) {
    if (out->size() >= kMaxDecompressed) {
      ret = LZMA_MEMLIMIT_ERROR;
      break;
    }
    size_t at = out->size();
    out->resize(at + kChunk);
    stream.next_out = out->data() + at;
    stream.avail_out = kChunk;
    ret = lzma_code(&stream, LZMA_FINISH);
    out->resize(at + kChunk - stream.avail_out);
  }
  lzma_end(&stream);
  if (ret != LZMA_STREAM_END) {
    *error = ".gnu_debugdata does not decompress (xz error " + std::to_string(static_cast<int>(ret)) + ")";
    return false;
  }
  return true;
}

bool Extract(const uint8_t* data, size_t size, int depth, std::vector<uint8_t>* section, uint64_t* address,
             bool* is_eh_frame, bool* relocatable, std::string* error) {
  if (size < EI_NIDENT || memcmp(data, ELFMAG, SELFMAG) != 0 || data[EI_CLASS] != ELFCLASS64) {
    *error = "not a 64-bit ELF file";
    return false;
  }
  elf_version(EV_CURRENT);
  std::unique_ptr<Elf, ElfCloser> elf(elf_memory(const_cast<char*>(reinterpret_cast<const char*>(data)), size));
  GElf_Ehdr ehdr;
  size_t shstrndx = 0;
  if (!elf || gelf_getehdr(elf.get(), &ehdr) == nullptr || elf_getshdrstrndx(elf.get(), &shstrndx) != 0) {
    *error = "libelf rejects the file";
    return false;
  }
  if (depth == 0) *relocatable = ehdr.e_type == ET_REL;
  Elf_Scn* debug_frame = nullptr;
  Elf_Scn* eh_frame = nullptr;
  Elf_Scn* debugdata = nullptr;
  for (Elf_Scn* scn = elf_nextscn(elf.get(), nullptr); scn != nullptr; scn = elf_nextscn(elf.get(), scn)) {
    GElf_Shdr sh;
    if (gelf_getshdr(scn, &sh) == nullptr || sh.sh_type == SHT_NOBITS) continue;
    if (sh.sh_offset > size || sh.sh_size > size - sh.sh_offset) continue;
    const char* name = elf_strptr(elf.get(), shstrndx, sh.sh_name);
    if (name == nullptr) continue;
    if (strcmp(name, ".debug_frame") == 0) debug_frame = scn;
    if (strcmp(name, ".eh_frame") == 0) eh_frame = scn;
    if (strcmp(name, ".gnu_debugdata") == 0) debugdata = scn;
  }
  // .debug_frame first: it is what our writer puts in every layout.
  if (Elf_Scn* scn = debug_frame ? debug_frame : eh_frame) {
    GElf_Shdr sh;
    gelf_getshdr(scn, &sh);
    section->assign(data + sh.sh_offset, data + sh.sh_offset + sh.sh_size);
    *address = sh.sh_addr;
    *is_eh_frame = scn == eh_frame;
    return true;
  }
  if (debugdata != nullptr && depth == 0) {
    GElf_Shdr sh;
    gelf_getshdr(debugdata, &sh);
    std::vector<uint8_t> inner;
    if (!XzDecode(data + sh.sh_offset, sh.sh_size, &inner, error)) return false;
    return Extract(inner.data(), inner.size(), depth + 1, section, address, is_eh_frame, relocatable, error);
  }
  *error = "no .debug_frame, .eh_frame or .gnu_debugdata";
  return false;
}

}  // namespace

bool ExtractCfiSection(const uint8_t* data, size_t size, std::vector<uint8_t>* section, uint64_t* section_address,
                       bool* is_eh_frame, bool* relocatable, std::string* error) {
  *relocatable = false;
  return Extract(data, size, 0, section, section_address, is_eh_frame, relocatable, error);
}

JitUnwindTable::JitUnwindTable(const JitSnapshot& snapshot, Memory& memory) : memory_(memory) {
  size_t order = 0;
  for (const DescriptorView& d : snapshot.descriptors) {
    for (const SnapshotEntry& e : d.entries) {
      order++;
      if (!e.symfile || !e.info) continue;
      size_t index = entries_.size();
      entries_.push_back(Entry{&e, false, nullptr});
      for (const SymfileFunction& f : e.info->functions) {
        if (f.size == 0 || f.address + f.size < f.address) continue;
        ranges_.push_back(Range{f.address, f.address + f.size, order, index});
        max_range_size_ = std::max(max_range_size_, f.size);
      }
    }
  }
  std::sort(ranges_.begin(), ranges_.end(), [](const Range& a, const Range& b) {
    return a.start != b.start ? a.start < b.start : a.order < b.order;
  });
}

const JitUnwindTable::Range* JitUnwindTable::EntryFor(uint64_t pc) const {
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), pc, [](uint64_t v, const Range& r) { return v < r.start; });
  const Range* best = nullptr;
  for (size_t scanned = 0; it != ranges_.begin() && scanned < kMaxOverlapScan; scanned++) {
    --it;
    if (pc - it->start >= max_range_size_) break;  // every earlier range ends before pc
    if (pc < it->end && (best == nullptr || it->order < best->order)) best = &*it;
  }
  return best;
}

void JitUnwindTable::Load(Entry& entry) {
  entry.loaded = true;
  const std::vector<uint8_t>& file = *entry.snapshot->symfile;
  std::vector<uint8_t> section;
  uint64_t address = 0;
  bool is_eh_frame = false, relocatable = false;
  std::string error;
  if (!ExtractCfiSection(file.data(), file.size(), &section, &address, &is_eh_frame, &relocatable, &error)) return;
  if (relocatable && is_eh_frame && address != 0) {
    // The loaded .eh_frame has its pc-relative pointers relocated; the
    // registered object's copy does not. Offline (no such memory) we fall
    // back to the copy, whose FDEs then fail to match and frames go to the
    // frame-pointer walk.
    std::vector<uint8_t> loaded(section.size());
    if (memory_.ReadFully(address, loaded.data(), loaded.size())) section = std::move(loaded);
  }
  entry.cfi = std::make_unique<CfiTable>(CfiTable::Parse(std::move(section), address, is_eh_frame));
}

std::optional<JitUnwindTable::Match> JitUnwindTable::Find(uint64_t pc) {
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), pc, [](uint64_t v, const Range& r) { return v < r.start; });
  // Candidates newest first: the newest registration that has an FDE for pc.
  std::vector<const Range*> candidates;
  for (size_t scanned = 0; it != ranges_.begin() && scanned < kMaxOverlapScan; scanned++) {
    --it;
    if (pc - it->start >= max_range_size_) break;
    if (pc < it->end) candidates.push_back(&*it);
  }
  std::sort(candidates.begin(), candidates.end(), [](const Range* a, const Range* b) { return a->order < b->order; });
  for (const Range* r : candidates) {
    Entry& entry = entries_[r->entry];
    if (!entry.loaded) Load(entry);
    if (!entry.cfi) continue;
    if (const CfiTable::Fde* fde = entry.cfi->Find(pc)) return Match{entry.cfi.get(), fde, r->entry};
  }
  return std::nullopt;
}

}  // namespace jitscope
