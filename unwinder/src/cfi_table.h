// The FDEs of one CFI section (.debug_frame or .eh_frame) from a symbol
// file, indexed by address, and their re-encoding as a self-contained
// .eh_frame (one CIE, one FDE, absolute pointers) that libunwind can read
// from any address we choose. Our JIT writes .debug_frame (gdb ignores an
// .eh_frame inside .gnu_debugdata), LLVM writes .eh_frame with pc-relative
// pointers; libunwind's remote tables want .eh_frame at a known address, so
// both are converted. The section bytes come from another process: every
// length and offset is checked, malformed entries are skipped, and CFA
// programs with DWARF expressions (which libunwind evaluates unbounded) or
// unknown opcodes are refused.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace jitscope {

class CfiTable {
 public:
  // Limits a hostile section: our packed groups hold a few hundred FDEs.
  static constexpr size_t kMaxFdes = 1 << 20;

  // section_address: where the section's first byte is in the target
  // (needed to decode .eh_frame's pc-relative pointers).
  static CfiTable Parse(std::vector<uint8_t> section, uint64_t section_address, bool is_eh_frame);

  struct Fde {
    uint64_t start = 0;
    uint64_t size = 0;
    size_t cie = 0;  // index into cies_
    size_t program_offset = 0, program_size = 0;  // FDE instructions in section_
  };
  // The FDE whose range contains pc.
  const Fde* Find(uint64_t pc) const;
  size_t size() const { return fdes_.size(); }

  // An .eh_frame holding the FDE's CIE and the FDE (absolute 8-byte
  // pointers), padded to 8 bytes, followed by a one-entry binary-search
  // table in libunwind's UNW_INFO_FORMAT_IP_OFFSET form {start - fde.start,
  // FDE offset from the blob's start}. *table_offset: where the table starts.
  std::vector<uint8_t> BuildEhFrame(const Fde& fde, size_t* table_offset) const;

 private:
  struct Cie {
    uint64_t code_alignment = 1;
    int64_t data_alignment = 0;
    uint64_t return_address_register = 0;
    bool signal_frame = false;
    size_t program_offset = 0, program_size = 0;
    uint8_t fde_encoding = 0;  // DW_EH_PE_* (absptr for .debug_frame)
    bool has_augmentation_data = false;
    uint8_t address_size = 8;
  };
  std::optional<Cie> ParseCie(size_t offset, size_t end) const;

  std::vector<uint8_t> section_;
  uint64_t section_address_ = 0;
  bool is_eh_frame_ = false;
  std::vector<Cie> cies_;
  std::vector<Fde> fdes_;  // sorted by start
};

}  // namespace jitscope
