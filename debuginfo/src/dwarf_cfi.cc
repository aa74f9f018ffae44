// The CFA program is derived row by row: between two rows we advance the
// location and emit only what changed (CFA rule, each saved register), so the
// table a reader rebuilds is exactly the FrameRow that covers every offset,
// including epilogues in the middle of the code and the body state after them.
#include "dwarf_cfi.h"

#include <elf.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace jitscope {

namespace {

// DWARF 4 section 6.4.2 call frame instructions (the ones we emit).
constexpr uint8_t kCfaAdvanceLoc = 0x40;  // high 2 bits; delta in the low 6
constexpr uint8_t kCfaOffset = 0x80;      // high 2 bits; register in the low 6
constexpr uint8_t kCfaRestore = 0xc0;     // high 2 bits; register in the low 6
constexpr uint8_t kCfaNop = 0x00;
constexpr uint8_t kCfaAdvanceLoc1 = 0x02;
constexpr uint8_t kCfaAdvanceLoc2 = 0x03;
constexpr uint8_t kCfaAdvanceLoc4 = 0x04;
constexpr uint8_t kCfaOffsetExtendedSf = 0x11;
constexpr uint8_t kCfaRestoreExtended = 0x06;
constexpr uint8_t kCfaDefCfa = 0x0c;
constexpr uint8_t kCfaDefCfaRegister = 0x0d;
constexpr uint8_t kCfaDefCfaOffset = 0x0e;
constexpr uint8_t kCfaDefCfaSf = 0x12;
constexpr uint8_t kCfaRememberState = 0x0a;
constexpr uint8_t kCfaRestoreState = 0x0b;

// How far ahead a state is looked for before it is remembered; bounds the
// encoder's work on code with very many rows (an epilogue is ~10 rows).
constexpr size_t kRememberLookahead = 64;
// Nested remembered states (readers keep a stack); more would only help code
// with epilogues inside epilogues.
constexpr size_t kMaxRememberDepth = 4;

// Pointer encodings of .eh_frame (LSB "Linux Standard Base", exception frames).
constexpr uint8_t kEhPePcrelSdata4 = 0x10 | 0x0b;

// The compact forms hold the register in 6 bits.
constexpr int kCompactRegisterLimit = 64;
// Entries are padded with DW_CFA_nop to the address size, as readers expect.
constexpr size_t kCfiEntryAlignment = 8;
// A DWARF 32-bit CIE id in .debug_frame; .eh_frame uses 0.
constexpr uint32_t kDebugFrameCieId = 0xffffffff;
constexpr uint8_t kCieVersion = 1;  // version 1 stores the RA column in one byte

constexpr CfiArch kX86_64 = {
    /*e_machine=*/EM_X86_64,
    /*return_address_column=*/kDwRip,
    /*stack_pointer=*/kDwRsp,
    /*data_alignment=*/-8,
    /*entry_cfa_offset=*/8,
    /*entry_return_address_offset=*/-8,
};

void AdvanceLoc(ByteWriter& w, uint32_t delta) {
  if (delta < 0x40) {
    w.U8(kCfaAdvanceLoc | static_cast<uint8_t>(delta));
  } else if (delta <= 0xff) {
    w.U8(kCfaAdvanceLoc1);
    w.U8(static_cast<uint8_t>(delta));
  } else if (delta <= 0xffff) {
    w.U8(kCfaAdvanceLoc2);
    w.U16(static_cast<uint16_t>(delta));
  } else {
    w.U8(kCfaAdvanceLoc4);
    w.U32(delta);
  }
}

void DefCfa(ByteWriter& w, const CfiArch& arch, uint8_t reg, int32_t offset) {
  if (offset >= 0) {
    w.U8(kCfaDefCfa);
    w.ULeb128(reg);
    w.ULeb128(static_cast<uint64_t>(offset));
  } else {
    w.U8(kCfaDefCfaSf);
    w.ULeb128(reg);
    w.SLeb128(offset / arch.data_alignment);
  }
}

void DefCfaOffset(ByteWriter& w, const CfiArch& arch, uint8_t reg, int32_t offset) {
  if (offset >= 0) {
    w.U8(kCfaDefCfaOffset);
    w.ULeb128(static_cast<uint64_t>(offset));
  } else {
    DefCfa(w, arch, reg, offset);  // no unfactored negative form without the register
  }
}

void SaveRegister(ByteWriter& w, const CfiArch& arch, int reg, int32_t offset) {
  int32_t factored = offset / arch.data_alignment;
  if (factored >= 0 && reg < kCompactRegisterLimit) {
    w.U8(kCfaOffset | static_cast<uint8_t>(reg));
    w.ULeb128(static_cast<uint64_t>(factored));
  } else {
    w.U8(kCfaOffsetExtendedSf);
    w.ULeb128(static_cast<uint64_t>(reg));
    w.SLeb128(factored);
  }
}

// Back to the CIE's rule, which for callee-saved registers is "same value".
void RestoreRegister(ByteWriter& w, int reg) {
  if (reg < kCompactRegisterLimit) {
    w.U8(kCfaRestore | static_cast<uint8_t>(reg));
  } else {
    w.U8(kCfaRestoreExtended);
    w.ULeb128(static_cast<uint64_t>(reg));
  }
}

// The encoder compares rows often (row changes, remembered states): one memcmp
// for the ordinary registers, the return address column by its effective slot.
bool SameCfiState(const CfiArch& arch, const FrameRow& a, const FrameRow& b) {
  if (a.cfa_reg != b.cfa_reg || a.cfa_offset != b.cfa_offset) return false;
  int ra = arch.return_address_column;
  if (std::memcmp(a.saved_offset, b.saved_offset, sizeof(a.saved_offset[0]) * ra) != 0) return false;
  if (std::memcmp(a.saved_offset + ra + 1, b.saved_offset + ra + 1, sizeof(a.saved_offset[0]) * (kDwNumRegs - ra - 1)) != 0)
    return false;
  return EffectiveSavedOffset(arch, a, ra) == EffectiveSavedOffset(arch, b, ra);
}

void EmitRowChange(ByteWriter& w, const CfiArch& arch, const FrameRow& prev, const FrameRow& cur) {
  if (cur.cfa_reg != prev.cfa_reg) {
    if (cur.cfa_offset != prev.cfa_offset) {
      DefCfa(w, arch, cur.cfa_reg, cur.cfa_offset);
    } else {
      w.U8(kCfaDefCfaRegister);
      w.ULeb128(cur.cfa_reg);
    }
  } else if (cur.cfa_offset != prev.cfa_offset) {
    DefCfaOffset(w, arch, cur.cfa_reg, cur.cfa_offset);
  }
  for (int r = 0; r < kDwNumRegs; r++) {
    // Most rows change one register: equal raw slots are equal effective
    // slots, so the common case skips EffectiveSavedOffset's special cases.
    if (prev.saved_offset[r] == cur.saved_offset[r]) continue;
    int32_t before = EffectiveSavedOffset(arch, prev, r);
    int32_t after = EffectiveSavedOffset(arch, cur, r);
    if (before == after) continue;
    if (after == 0)
      RestoreRegister(w, r);
    else
      SaveRegister(w, arch, r, after);
  }
}

// The state at entry, which the CIE's initial instructions establish.
FrameRow EntryRow(const CfiArch& arch) {
  FrameRow row;
  row.cfa_reg = arch.stack_pointer;
  row.cfa_offset = arch.entry_cfa_offset;
  return row;
}

void WriteInitialInstructions(ByteWriter& w, const CfiArch& arch) {
  DefCfa(w, arch, arch.stack_pointer, arch.entry_cfa_offset);
  SaveRegister(w, arch, arch.return_address_column, arch.entry_return_address_offset);
}

size_t ULebSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}

size_t SLebSize(int64_t v) {
  size_t n = 1;
  while (v >= 0x40 || v < -0x40) {
    v >>= 7;
    n++;
  }
  return n;
}

// Bytes EmitRowChange would write; decides whether remembering pays.
size_t RowChangeSize(const CfiArch& arch, const FrameRow& prev, const FrameRow& cur) {
  size_t n = 0;
  bool reg_changes = cur.cfa_reg != prev.cfa_reg;
  bool offset_changes = cur.cfa_offset != prev.cfa_offset;
  if (reg_changes || offset_changes) {
    n += 1;
    if (reg_changes || cur.cfa_offset < 0) n += ULebSize(cur.cfa_reg);
    if (offset_changes || cur.cfa_offset < 0)
      n += cur.cfa_offset >= 0 ? ULebSize(static_cast<uint64_t>(cur.cfa_offset))
                               : SLebSize(cur.cfa_offset / arch.data_alignment);
  }
  for (int r = 0; r < kDwNumRegs; r++) {
    if (prev.saved_offset[r] == cur.saved_offset[r]) continue;  // as in EmitRowChange
    int32_t after = EffectiveSavedOffset(arch, cur, r);
    if (EffectiveSavedOffset(arch, prev, r) == after) continue;
    int32_t factored = after / arch.data_alignment;
    if (after == 0)
      n += r < kCompactRegisterLimit ? 1 : 1 + ULebSize(static_cast<uint64_t>(r));
    else if (factored >= 0 && r < kCompactRegisterLimit)
      n += 1 + ULebSize(static_cast<uint64_t>(factored));
    else
      n += 1 + ULebSize(static_cast<uint64_t>(r)) + SLebSize(factored);
  }
  return n;
}

// Whether remembering `state` when the frame leaves it at row `from` saves
// bytes: the frame must come back to it (the body state after an epilogue in
// the middle of the code) and re-describing it must cost more than the
// remember/restore pair. The entry state (nothing saved) is left out: when the
// frame returns to it, the body state remembered later sits on top of it.
bool WorthRemembering(const CfiArch& arch, const std::vector<FrameRow>& rows, size_t from, uint64_t size,
                      const FrameRow& state) {
  constexpr size_t kRememberRestoreBytes = 2;
  bool saves_registers = false;
  for (int r = 0; r < kDwNumRegs; r++)
    if (r != arch.return_address_column && state.saved_offset[r] != 0) saves_registers = true;
  if (!saves_registers) return false;
  size_t end = std::min(rows.size(), from + 1 + kRememberLookahead);
  for (size_t j = from + 1; j < end && rows[j].code_offset < size; j++)
    if (SameCfiState(arch, rows[j], state)) return RowChangeSize(arch, rows[j - 1], state) > kRememberRestoreBytes;
  return false;
}

// Only the start of an epilogue (the frame shrinks: a register is restored or
// the stack pointer rises) leaves a state the code may come back to; this
// spares the prologue rows the look-ahead.
bool Shrinks(const CfiArch& arch, const FrameRow& state, const FrameRow& row) {
  if (row.cfa_reg == state.cfa_reg && row.cfa_offset < state.cfa_offset) return true;
  for (int r = 0; r < kDwNumRegs; r++)
    if (state.saved_offset[r] != 0 && row.saved_offset[r] == 0 && r != arch.return_address_column) return true;
  return false;
}

// An epilogue in the middle of the code costs a remember_state before it and
// one restore_state after it (which brings back the CFA rule too, as GCC's
// output relies on) instead of re-describing every saved register.
void WriteCfaProgram(ByteWriter& w, const CfiArch& arch, const FrameDescription& frame, uint64_t size) {
  const std::vector<FrameRow>& rows = frame.rows;
  FrameRow state = EntryRow(arch);
  FrameRow remembered[kMaxRememberDepth];
  size_t depth = 0;
  uint32_t location = 0;
  for (size_t i = 0; i < rows.size(); i++) {
    const FrameRow& row = rows[i];
    if (row.code_offset >= size) break;  // describes no instruction
    if (SameCfiState(arch, state, row)) continue;
    if (row.code_offset > location) {
      AdvanceLoc(w, row.code_offset - location);
      location = row.code_offset;
    }
    if (depth > 0 && SameCfiState(arch, remembered[depth - 1], row)) {
      w.U8(kCfaRestoreState);
      depth--;
    } else {
      if (depth < kMaxRememberDepth && Shrinks(arch, state, row) && WorthRemembering(arch, rows, i, size, state)) {
        w.U8(kCfaRememberState);
        remembered[depth++] = state;
      }
      EmitRowChange(w, arch, state, row);
    }
    state = row;
  }
}

// Pads the entry that starts at `entry` with nops and stores its length.
void FinishEntry(ByteWriter& w, size_t entry) {
  while ((w.size() - entry) % kCfiEntryAlignment != 0) w.U8(kCfaNop);
  w.Patch32(entry, static_cast<uint32_t>(w.size() - entry - 4));
}

}  // namespace

const CfiArch* CfiArchFor(uint16_t e_machine) {
  if (e_machine == EM_X86_64) return &kX86_64;
  return nullptr;
}

bool ValidateFrameDescription(const CfiArch& arch, const FrameDescription& frame, uint64_t code_size,
                              std::string* error) {
  // Runs for every compiled function: messages are only built on failure.
  auto where = [](const FrameRow& row) { return "frame row at offset " + std::to_string(row.code_offset); };
  if (frame.rows.empty()) return true;
  if (frame.rows.front().code_offset != 0) {
    *error = "the first frame row is at offset " + std::to_string(frame.rows.front().code_offset) +
             ", not 0";
    return false;
  }
  uint32_t previous = 0;
  for (const FrameRow& row : frame.rows) {
    if (row.code_offset < previous) {
      *error = where(row) + " is not sorted";
      return false;
    }
    previous = row.code_offset;
    if (row.cfa_reg >= kDwNumRegs || row.cfa_reg == arch.return_address_column) {
      *error = where(row) + ": bad CFA register " + std::to_string(row.cfa_reg);
      return false;
    }
    if (row.cfa_offset < 0 && row.cfa_offset % arch.data_alignment != 0) {
      *error = where(row) + ": negative CFA offset not a multiple of the data alignment";
      return false;
    }
    // The data alignment is a power of two: a mask instead of a division per register.
    int mask = -arch.data_alignment - 1;
    int any_misaligned = 0;
    for (int r = 0; r < kDwNumRegs; r++) any_misaligned |= row.saved_offset[r] & mask;
    if (any_misaligned == 0) continue;
    for (int r = 0; r < kDwNumRegs; r++) {
      if ((row.saved_offset[r] & mask) != 0) {
        *error = where(row) + ": register " + std::to_string(r) + " saved at CFA" +
                 std::to_string(row.saved_offset[r]) + ", not a multiple of " +
                 std::to_string(-arch.data_alignment);
        return false;
      }
    }
  }
  return true;
}

size_t WriteDebugFrameCie(ByteWriter& w, const CfiArch& arch) {
  size_t entry = w.size();
  w.U32(0);  // length, patched
  w.U32(kDebugFrameCieId);
  w.U8(kCieVersion);
  w.U8(0);  // augmentation ""
  w.ULeb128(1);  // code alignment: offsets in bytes
  w.SLeb128(arch.data_alignment);
  w.U8(arch.return_address_column);
  WriteInitialInstructions(w, arch);
  FinishEntry(w, entry);
  return entry;
}

void WriteDebugFrameFde(ByteWriter& w, const CfiArch& arch, uint32_t cie_pointer, uint64_t address,
                        uint64_t size, const FrameDescription& frame) {
  size_t entry = w.size();
  w.U32(0);  // length, patched
  w.U32(cie_pointer);
  w.U64(address);
  w.U64(size);
  WriteCfaProgram(w, arch, frame, size);
  FinishEntry(w, entry);
}

void WriteDebugFrameFdeWithProgram(ByteWriter& w, uint32_t cie_pointer, uint64_t address, uint64_t size,
                                   const uint8_t* program, size_t program_size) {
  size_t entry = w.size();
  w.U32(0);  // length, patched
  w.U32(cie_pointer);
  w.U64(address);
  w.U64(size);
  w.Raw(program, program_size);
  FinishEntry(w, entry);
}

size_t DebugFrameFdeSizeWithProgram(size_t program_size) {
  constexpr size_t kHeader = 4 + 4 + 8 + 8;  // length, CIE pointer, initial location, address range
  return (kHeader + program_size + kCfiEntryAlignment - 1) / kCfiEntryAlignment * kCfiEntryAlignment;
}

size_t WriteEhFrameCie(ByteWriter& w, const CfiArch& arch) {
  size_t entry = w.size();
  w.U32(0);  // length, patched
  w.U32(0);  // CIE id in .eh_frame
  w.U8(kCieVersion);
  w.CString("zR");
  w.ULeb128(1);
  w.SLeb128(arch.data_alignment);
  w.U8(arch.return_address_column);
  w.ULeb128(1);  // augmentation data: the R byte
  w.U8(kEhPePcrelSdata4);
  WriteInitialInstructions(w, arch);
  FinishEntry(w, entry);
  return entry;
}

std::vector<uint8_t> EncodeCfaProgram(const CfiArch& arch, const FrameDescription& frame, uint64_t size) {
  std::vector<uint8_t> program;
  // One allocation instead of the vector's doubling from 1 byte: a row costs
  // an advance and one or two register rules, 2-4 bytes.
  constexpr size_t kReservedBytesPerRow = 4;
  program.reserve(frame.rows.size() * kReservedBytesPerRow);
  ByteWriter w(&program);
  WriteCfaProgram(w, arch, frame, size);
  return program;
}

bool WriteEhFrameFdeWithProgram(ByteWriter& w, size_t cie_position, uint64_t buffer_address, uint64_t address,
                                uint64_t size, const std::vector<uint8_t>& program) {
  size_t entry = w.size();
  w.U32(0);  // length, patched
  // The CIE pointer counts back from this very field.
  w.U32(static_cast<uint32_t>(w.size() - cie_position));
  int64_t pc_begin = static_cast<int64_t>(address - (buffer_address + w.size()));
  if (pc_begin < INT32_MIN || pc_begin > INT32_MAX || size > UINT32_MAX) return false;
  w.S32(static_cast<int32_t>(pc_begin));
  w.U32(static_cast<uint32_t>(size));  // the range takes the format (sdata4) but not pcrel
  w.ULeb128(0);  // no augmentation data
  w.Raw(program.data(), program.size());
  FinishEntry(w, entry);
  return true;
}

bool WriteEhFrameFde(ByteWriter& w, const CfiArch& arch, size_t cie_position, uint64_t buffer_address,
                     uint64_t address, uint64_t size, const FrameDescription& frame,
                     size_t* fde_position) {
  *fde_position = w.size();
  return WriteEhFrameFdeWithProgram(w, cie_position, buffer_address, address, size,
                                    EncodeCfaProgram(arch, frame, size));
}

}  // namespace jitscope
