// Full-mode DWARF 4 debug info for JIT code: a compile unit per source file, a
// subprogram per code, and the pc -> source line table, so that gdb shows
// `fib () at fib.lua:4` and can break on a Lua line.
#pragma once

#include <string>
#include <vector>

#include "debuginfo/code_event.h"

namespace jitscope {

struct DwarfInfoSections {
  std::vector<uint8_t> abbrev;
  std::vector<uint8_t> info;
  std::vector<uint8_t> line;
  std::vector<uint8_t> str;
};

// `codes` sorted by address. Codes with an empty source get a subprogram in a
// compile unit without a line table.
void WriteDwarfInfo(const std::vector<const CodeInfo*>& codes, const std::string& comp_dir,
                    DwarfInfoSections* out);

// The name gdb shows for a code: the Lua function part of "fib@fib.lua:3".
std::string SubprogramName(const std::string& code_name);

}  // namespace jitscope
