// Reads one in-memory symbol file registered through the GDB JIT interface:
// ours (mini debug info, single-function, packed or with an xz-compressed
// .gnu_debugdata; full mode with DWARF lines) and other producers' (LLVM's
// MCJIT registers relocatable objects whose section addresses are patched to
// where the sections were loaded). The bytes come from another process and
// are not trusted: libelf checks the structure, every section and symbol is
// range-checked, decompression is bounded.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "debuginfo/result.h"

namespace jitscope {

enum class SymfileKind : uint8_t {
  kSingle,       // one function per file (unpacked)
  kPacked,       // several functions, one CIE and many FDEs
  kCompressed,   // .gnu_debugdata holds the symbols (and CFI)
  kRelocatable,  // ET_REL with patched section addresses (LLVM MCJIT)
};
const char* SymfileKindName(SymfileKind kind);

struct SymfileFunction {
  uint64_t address = 0;  // run-time address
  uint64_t size = 0;
  std::string name;
  // Full mode: the subprogram's declaration (DW_AT_decl_file/line).
  std::string file;
  uint32_t line = 0;
  int tier = -1;  // CodeTier from our .jitscope.tier section; -1 when the producer records none
};

struct SymfileLine {
  uint64_t address = 0;
  uint32_t line = 0;
  uint32_t file = 0;  // index into SymfileInfo::files
};

struct SymfileSegment {  // a PT_LOAD (native modules)
  uint64_t vaddr = 0, offset = 0, filesz = 0;
  bool executable = false;
};

struct SymfileInfo {
  SymfileKind kind = SymfileKind::kSingle;
  uint16_t elf_type = 0;
  uint16_t machine = 0;
  uint64_t text_address = 0;  // the .text (NOBITS for ours) range the file describes
  uint64_t text_size = 0;
  std::vector<SymfileFunction> functions;  // sorted by address
  std::vector<std::string> files;
  std::vector<SymfileLine> lines;          // sorted by address; empty unless DWARF lines
  bool has_cfi = false;                    // .debug_frame or .eh_frame present
  uint64_t inner_size = 0;                 // compressed: size of the decompressed ELF
  std::vector<SymfileSegment> segments;
};

struct SymfileLimits {
  // Our packed groups hold a few hundred functions; 1M bounds a hostile file.
  size_t max_functions = 1 << 20;
  size_t max_lines = 1 << 22;
  // .gnu_debugdata of a 64 KiB range decompresses to tens of KiB.
  uint64_t max_decompressed = 64ull << 20;
  // DWARF line tables: wanted for JIT symbol files, too slow for a 100 MB
  // native library whose symbols are all we need.
  bool read_lines = true;
};

// `data` is copied by nobody: it must stay valid during the call only.
Result<SymfileInfo> ParseSymfile(const uint8_t* data, size_t size, const SymfileLimits& limits = {});

// The source line for `address` from info.lines (0 if none): the last row at
// or before it, within the function that contains it.
struct SourceLocation {
  std::string file;
  uint32_t line = 0;
};
SourceLocation LookupLine(const SymfileInfo& info, uint64_t address);

}  // namespace jitscope
