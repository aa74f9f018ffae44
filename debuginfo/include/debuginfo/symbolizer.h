// Address -> function for a target: every live JIT symbol of a snapshot plus
// the symbols of the ELF files the target maps (.symtab, .dynsym and
// .gnu_debugdata, at their load bias). The index is a flat sorted array of
// non-overlapping ranges, so a lookup is one binary search (batch lookups
// are the recorder's and the viewer's hot path).
//
// Overlaps are resolved once, when the index is built: JIT code over native
// (JIT code lives in anonymous or memfd mappings, so this is rare), and among
// JIT symbols the newest registration wins: a packed group keeps the symbols
// of freed code until its next repack, and a newer function may already use
// those addresses.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "debuginfo/jit_snapshot.h"
#include "debuginfo/process_maps.h"
#include "debuginfo/symfile.h"

namespace jitscope {

struct SymbolInfo {
  uint64_t start = 0;
  uint64_t size = 0;
  std::string name;
  bool jit = false;
  std::string module;       // native: the file's path; JIT: "[jit]"
  uint64_t timestamp = 0;   // JIT: registration time of its entry
  uint64_t entry = 0;       // JIT: entry address
  SymfileKind kind = SymfileKind::kSingle;
  std::shared_ptr<const SymfileInfo> info;  // JIT: for source lines
  int module_index = -1;
  int tier = -1;  // JIT: CodeTier when the symbol file records it                     // native: for DWARF lines (libdw), when the file has them
};

struct SymbolMatch {
  const SymbolInfo* symbol = nullptr;
  uint64_t offset = 0;
  SourceLocation source;  // full-mode JIT code, or native code whose file has DWARF lines
};

class Symbolizer {
 public:
  Symbolizer() = default;
  ~Symbolizer();
  Symbolizer(const Symbolizer&) = delete;
  Symbolizer& operator=(const Symbolizer&) = delete;

  void AddJit(const JitSnapshot& snapshot);
  // Native modules of a process (pid for /proc/PID/map_files and /root
  // fallbacks; 0 to open paths as they are). Files that cannot be read are
  // skipped and listed in problems().
  void AddModules(const std::vector<MapEntry>& maps, pid_t pid);
  void AddSymbol(SymbolInfo symbol, int priority);
  // Builds the index; call after the Add* calls and before lookups.
  void Finish();

  std::optional<SymbolMatch> Lookup(uint64_t address) const;
  // The symbol index for each address (-1 if none): no strings, no lines.
  void LookupBatch(const uint64_t* addresses, size_t n, int32_t* out) const;
  const SymbolInfo& symbol(int32_t index) const { return symbols_[static_cast<size_t>(index)]; }
  size_t size() const { return ranges_.size(); }
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  struct Pending {
    int priority;
    uint64_t order;
    size_t index;
  };
  struct Range {
    uint64_t start;
    uint64_t end;
    int32_t symbol;
  };
  struct Module {
    std::string path;  // what was opened (may be /proc/PID/map_files/...)
    uint64_t bias = 0;
    bool tried = false;
    int fd = -1;
    void* dwarf = nullptr;  // Dwarf*, opened on the first line lookup
  };
  SourceLocation NativeLine(int module, uint64_t address) const;
  mutable std::vector<Module> modules_;
  std::vector<SymbolInfo> symbols_;
  std::vector<Pending> pending_;
  std::vector<Range> ranges_;
  std::vector<uint64_t> starts_;  // ranges_[i].start, for a cache-friendly search
  std::vector<std::string> problems_;
};

}  // namespace jitscope
