// Disassembly of code read from a target (live or from a snapshot) with
// Capstone, each instruction annotated with the symbol of any immediate that
// names a function (call and jump targets, helper addresses loaded into a
// register) and with the source line that starts at it (full-mode entries).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "debuginfo/memory.h"
#include "debuginfo/result.h"
#include "debuginfo/symbolizer.h"

namespace jitscope {

struct DisassembledInstruction {
  uint64_t address = 0;
  std::vector<uint8_t> bytes;
  std::string mnemonic;
  std::string operands;
  std::string target;  // "jit_h_call" / "fib@fib.lua:3+0x10" for immediates naming code
  std::string source;  // "fib.lua:4" where a new source line starts
};

// Disassembles [address, address + size) of `memory` (x86-64). Bytes
// Capstone cannot decode are emitted as ".byte" and decoding resumes after
// them; a short read is an error naming the address.
Result<std::vector<DisassembledInstruction>> Disassemble(Memory& memory, uint64_t address, uint64_t size,
                                                         const Symbolizer* symbols);

}  // namespace jitscope
