// Finds a symbol's link-time address in an ELF file on disk, plus what is
// needed to turn it into a run-time address (the first PT_LOAD segment).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "debuginfo/result.h"

namespace jitscope {

struct ElfSymbolLookup {
  bool found = false;
  uint64_t value = 0;  // st_value: link-time virtual address
  uint64_t size = 0;
  bool from_dynsym = false;
  bool position_independent = false;  // ET_DYN: loaded at a bias
  // The lowest PT_LOAD; its page is where the file's first mapping starts.
  uint64_t first_load_vaddr = 0;
  uint64_t first_load_offset = 0;
};

// Searches .dynsym, then .symtab. A file that is not ELF (fonts, locale
// archives) is not an error: found is false. Errors are for ELF files that
// cannot be opened or are malformed.
Result<ElfSymbolLookup> LookupElfSymbol(const std::string& path, std::string_view symbol);

}  // namespace jitscope
