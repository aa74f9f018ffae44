// What a stopped jitvm has registered, read from outside as a debugger
// would: its memory mappings (/proc/PID/maps), the GDB JIT entries (through
// `jitscope descriptor PID --json`) and the in-memory ELF symbol files
// (/proc/PID/mem), with just enough ELF parsing to find the code they
// describe. Deliberately independent of the project's own readers.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace jitscope::integration {

struct Mapping {
  uint64_t start = 0;
  uint64_t end = 0;
  std::string perms;  // "r-xs"
  std::string name;   // "/memfd:jit-cache (deleted)", "[heap]", or empty
  std::string line;   // as in /proc/PID/maps, for messages

  bool readable() const { return perms.size() > 0 && perms[0] == 'r'; }
  bool writable() const { return perms.size() > 1 && perms[1] == 'w'; }
  bool executable() const { return perms.size() > 2 && perms[2] == 'x'; }
  bool Contains(uint64_t addr, uint64_t size) const { return addr >= start && addr + size <= end; }
};

// false and *error set if the file cannot be read.
bool ReadMaps(pid_t pid, std::vector<Mapping>* maps, std::string* error);
// The mapping that holds [addr, addr + size), or nullptr.
const Mapping* FindMapping(const std::vector<Mapping>& maps, uint64_t addr, uint64_t size);

struct JitEntry {
  uint64_t address = 0;  // of the jit_code_entry
  uint64_t symfile_addr = 0;
  uint64_t symfile_size = 0;
};

// The entries of the process's __jit_debug_descriptor, first (newest) first.
bool ReadJitEntries(pid_t pid, std::vector<JitEntry>* entries, std::string* error);

// Reads [addr, addr + size) of the process through /proc/PID/mem.
bool ReadProcessMemory(pid_t pid, uint64_t addr, uint64_t size, std::string* bytes, std::string* error);

struct ElfSymbol {
  std::string name;
  uint64_t value = 0;
  uint64_t size = 0;
};

struct ElfSection {
  std::string name;
  uint32_t type = 0;
  uint64_t addr = 0;
  uint64_t size = 0;
};

struct SymbolFile {
  std::vector<ElfSection> sections;
  std::vector<ElfSymbol> functions;  // STT_FUNC symbols of .symtab
};

// Parses an ELF64 little-endian file held in memory; false and *error set
// (naming the bad offset) if it is malformed.
bool ParseSymbolFile(const std::string& bytes, SymbolFile* file, std::string* error);

}  // namespace jitscope::integration
