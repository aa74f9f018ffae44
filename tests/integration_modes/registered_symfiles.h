// Every symbol file a stopped jitvm has registered, copied out of it as a
// debugger would (entries from `jitscope descriptor --json`, bytes from
// /proc/PID/mem), with compressed ones (.gnu_debugdata, xz) opened too, so
// that a test can tell which layout a debug-info mode really produced.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "../integration/jit_symfiles.h"

namespace jitscope::integration {

struct RegisteredSymfile {
  JitEntry entry;
  std::string bytes;  // the registered ELF file
  SymbolFile parsed;
  bool compressed = false;  // has a .gnu_debugdata section
  std::string debugdata;    // that section (an xz stream)
  std::string inner_bytes;  // the ELF file it holds
  SymbolFile inner;

  // STT_FUNC symbols of the file and of its compressed inner file.
  std::vector<ElfSymbol> AllFunctions() const;
  bool Defines(const std::string& name) const;
};

// false and *error set if the descriptor, a file or a compressed section
// cannot be read.
bool ReadRegisteredSymfiles(pid_t pid, std::vector<RegisteredSymfile>* files, std::string* error);

// The first file defining `name`, or nullptr.
const RegisteredSymfile* DefiningFile(const std::vector<RegisteredSymfile>& files, const std::string& name);

// The contents of section `name` of an ELF64 file; false if it has none or
// the file is malformed (*error says which).
bool SectionBytes(const std::string& elf, const std::string& name, std::string* contents, std::string* error);

// Decodes a whole .xz stream with liblzma.
bool XzDecompress(const std::string& compressed, std::string* decompressed, std::string* error);

// One line per file: entry address, size, functions, compressed or not.
std::string DescribeSymfiles(const std::vector<RegisteredSymfile>& files);

}  // namespace jitscope::integration
