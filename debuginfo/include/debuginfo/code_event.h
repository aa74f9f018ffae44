// The vocabulary of a code event: what a JIT reports about a piece of code it
// loaded or freed. Producers (the jitvm runtime, other JITs through the C API)
// fill these; consumers (the GDB JIT interface writer, perf map/jitdump writers,
// tombstone capture) read them. Nothing here knows about Lua.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace jitscope {

// x86-64 DWARF register numbers, as used by CFI.
enum DwarfReg : uint8_t {
  kDwRax = 0, kDwRdx = 1, kDwRcx = 2, kDwRbx = 3, kDwRsi = 4, kDwRdi = 5, kDwRbp = 6, kDwRsp = 7,
  kDwR8 = 8, kDwR9 = 9, kDwR10 = 10, kDwR11 = 11, kDwR12 = 12, kDwR13 = 13, kDwR14 = 14, kDwR15 = 15,
  kDwRip = 16,  // the return address column
  kDwNumRegs = 17,
};

// The complete frame state from `code_offset` up to the next row's offset: the
// CFA is `cfa_reg + cfa_offset`, and each saved register lives at CFA +
// saved_offset[reg] (offsets are negative; 0 = not saved). The return address is
// always at CFA - 8 on x86-64. Rows are sorted by offset and the first row is at
// offset 0 (the state at entry: CFA = rsp + 8).
struct FrameRow {
  uint32_t code_offset = 0;
  uint8_t cfa_reg = kDwRsp;
  int32_t cfa_offset = 8;
  int16_t saved_offset[kDwNumRegs] = {};

  bool SameStateAs(const FrameRow& o) const {
    if (cfa_reg != o.cfa_reg || cfa_offset != o.cfa_offset) return false;
    for (int i = 0; i < kDwNumRegs; i++)
      if (saved_offset[i] != o.saved_offset[i]) return false;
    return true;
  }
};

// Exact at every instruction: one row per change of the frame state (each push,
// pop, stack adjustment, frame-pointer setup, and each epilogue and the state
// restored after it).
struct FrameDescription {
  std::vector<FrameRow> rows;
  bool uses_frame_pointer = false;
};

// Maps a range of machine code to a source line (and the bytecode pc it came from).
struct LineEntry {
  uint32_t code_offset;  // start of the range, relative to the code start
  uint32_t line;         // source line (1-based); 0 = unknown
  uint32_t bytecode_pc;  // producer-defined; for jitvm the Lua bytecode index
};

enum class CodeTier : uint8_t { kInterpreter = 0, kBaseline = 1, kOsr = 2, kStub = 3 };
const char* CodeTierName(CodeTier tier);

struct CodeInfo {
  uint64_t address = 0;
  uint64_t size = 0;
  std::string name;        // unique, e.g. "fib@fib.lua:3"
  CodeTier tier = CodeTier::kBaseline;
  std::string source;      // source file (chunk name without '@'), may be empty
  uint32_t first_line = 0; // line where the function is defined
  uint64_t id = 0;         // producer's unique id for the code (stable while loaded)
  FrameDescription frame;
  std::vector<LineEntry> lines;  // sorted by code_offset
  const uint8_t* code_bytes = nullptr;  // readable copy of the code (for jitdump), size bytes
};

}  // namespace jitscope
