// Human-readable bytecode listing, byte for byte in the format of
// `luac5.1 -l -l` (print.c), so that listings can be diffed against Lua 5.1's.
#pragma once

#include <string>

#include "value.h"

namespace jitvm {

// Lists `p` and, recursively, every nested function: header, instructions,
// then the constants, locals and upvalues of each.
std::string dump_bytecode(const Proto* p);

}  // namespace jitvm
