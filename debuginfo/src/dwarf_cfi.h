// DWARF call frame information (CIE, FDE, CFA programs) from a FrameDescription,
// in both flavours: .debug_frame (absolute addresses; what gdb reads from JIT
// symbol files, also inside .gnu_debugdata) and .eh_frame (pc-relative; what
// perf's jitdump, libgcc's __register_frame and libunwind read).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "byte_writer.h"
#include "debuginfo/code_event.h"

namespace jitscope {

// What the CIE and the row encoder need to know about a machine.
struct CfiArch {
  uint16_t e_machine;
  uint8_t return_address_column;
  uint8_t stack_pointer;
  int8_t data_alignment;  // every saved-register offset is a multiple of it
  int32_t entry_cfa_offset;
  int16_t entry_return_address_offset;  // where the call left the return address
};

// Null for machines whose frame rows we cannot describe yet. AArch64 will need
// its own register numbering in FrameRow (return address in x30, CFA = sp + 0).
const CfiArch* CfiArchFor(uint16_t e_machine);

// Checks what the encoder relies on: rows sorted, the first at offset 0,
// registers in range, offsets representable with the data alignment.
// Empty rows are valid: the code has no CFI (no FDE is written for it).
bool ValidateFrameDescription(const CfiArch& arch, const FrameDescription& frame, uint64_t code_size,
                              std::string* error);

// .debug_frame: a version-1 CIE whose initial instructions describe the state
// at a function's entry. Returns the CIE's offset in the writer's buffer.
size_t WriteDebugFrameCie(ByteWriter& w, const CfiArch& arch);
// An FDE with absolute initial_location/address_range. `cie_pointer` is the
// CIE's offset from the start of .debug_frame.
void WriteDebugFrameFde(ByteWriter& w, const CfiArch& arch, uint32_t cie_pointer, uint64_t address,
                        uint64_t size, const FrameDescription& frame);
// The same FDE around a program EncodeCfaProgram made earlier (packing
// rebuilds a range's FDEs many times; the program never changes).
void WriteDebugFrameFdeWithProgram(ByteWriter& w, uint32_t cie_pointer, uint64_t address, uint64_t size,
                                   const uint8_t* program, size_t program_size);
// The bytes WriteDebugFrameFdeWithProgram writes (its header, the program,
// DW_CFA_nop padding), for writers that lay a file out before writing it.
size_t DebugFrameFdeSizeWithProgram(size_t program_size);

// .eh_frame: a CIE with augmentation "zR" and pcrel|sdata4 FDE pointers.
// `buffer_address` is the run-time address of byte 0 of the writer's buffer
// (pc-relative fields are computed from it). The FDE fails (returns false)
// only when the code is more than 2 GiB away from the FDE.
size_t WriteEhFrameCie(ByteWriter& w, const CfiArch& arch);
bool WriteEhFrameFde(ByteWriter& w, const CfiArch& arch, size_t cie_position, uint64_t buffer_address,
                     uint64_t address, uint64_t size, const FrameDescription& frame,
                     size_t* fde_position);

// The CFA program of an FDE on its own (it does not depend on where the FDE
// lives), and an .eh_frame FDE around such a precomputed program: lets a
// table of many FDEs be rebuilt at a new address without re-encoding rows.
std::vector<uint8_t> EncodeCfaProgram(const CfiArch& arch, const FrameDescription& frame, uint64_t size);
bool WriteEhFrameFdeWithProgram(ByteWriter& w, size_t cie_position, uint64_t buffer_address, uint64_t address,
                                uint64_t size, const std::vector<uint8_t>& program);

// The register's save slot as CFI sees it (the return address always has one).
inline int32_t EffectiveSavedOffset(const CfiArch& arch, const FrameRow& row, int reg) {
  int32_t offset = row.saved_offset[reg];
  if (reg == arch.return_address_column && offset == 0) return arch.entry_return_address_offset;
  return offset;
}

}  // namespace jitscope
