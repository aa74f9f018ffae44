// Unwind tables of JIT code, from the CFI of a snapshot's symbol files:
// which entry covers a pc (the newest registration wins, as in the
// Symbolizer), and that entry's CFI section (.debug_frame or .eh_frame, from
// the outer file or the xz-compressed .gnu_debugdata), parsed on first use.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cfi_table.h"
#include "debuginfo/jit_snapshot.h"
#include "debuginfo/memory.h"

namespace jitscope {

class JitUnwindTable {
 public:
  // memory: the target, for LLVM's relocatable objects, whose registered copy
  // holds unrelocated .eh_frame bytes while the loaded section is relocated.
  JitUnwindTable(const JitSnapshot& snapshot, Memory& memory);

  // Whether pc is in JIT code at all (CFI or not): such frames are not
  // native, whatever the maps say.
  bool Covers(uint64_t pc) const { return EntryFor(pc) != nullptr; }
  // The CFI table and FDE for pc, or nullptr (no entry, no CFI, bad CFI).
  struct Match {
    const CfiTable* table = nullptr;
    const CfiTable::Fde* fde = nullptr;
    size_t entry = 0;  // index for caching converted FDEs
  };
  std::optional<Match> Find(uint64_t pc);

 private:
  struct Range {
    uint64_t start, end;
    size_t order;  // list position: lower = newer
    size_t entry;
  };
  struct Entry {
    const SnapshotEntry* snapshot = nullptr;
    bool loaded = false;
    std::unique_ptr<CfiTable> cfi;
  };
  const Range* EntryFor(uint64_t pc) const;
  void Load(Entry& entry);

  Memory& memory_;
  std::vector<Entry> entries_;
  std::vector<Range> ranges_;  // sorted by start
  uint64_t max_range_size_ = 0;
};

// The CFI section of an ELF symbol file, decompressing .gnu_debugdata when
// that is where it is. false if the file has none. For ET_REL files
// *section_address is the patched sh_addr (where the section was loaded).
bool ExtractCfiSection(const uint8_t* data, size_t size, std::vector<uint8_t>* section, uint64_t* section_address,
                       bool* is_eh_frame, bool* relocatable, std::string* error);

}  // namespace jitscope
