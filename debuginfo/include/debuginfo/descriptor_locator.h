// Finds where a process keeps __jit_debug_descriptor: the mapped ELF files
// that define the symbol, and the load bias each was mapped at.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "debuginfo/elf_symbol_lookup.h"
#include "debuginfo/process_maps.h"
#include "debuginfo/result.h"

namespace jitscope {

inline constexpr std::string_view kJitDescriptorSymbol = "__jit_debug_descriptor";
// The twin descriptor (same ABI) whose entries are source blobs (source_blob.h).
inline constexpr std::string_view kSourceDescriptorSymbol = "__jit_source_descriptor";

struct DescriptorLocation {
  uint64_t address = 0;     // run-time address in the target
  std::string module_path;  // the file that defines the symbol
};

class DescriptorLocator {
 public:
  // A process may hold several JITs (e.g. our VM plus libLLVM), each with
  // its own descriptor: every defining module is returned, in map order.
  Result<std::vector<DescriptorLocation>> Locate(pid_t pid, std::string_view symbol = kJitDescriptorSymbol);

  // `pid` is only used to build fallback paths (/proc/PID/root/...,
  // /proc/PID/map_files/...); pass 0 to open the paths as they are.
  Result<std::vector<DescriptorLocation>> LocateInMaps(const std::vector<MapEntry>& maps, pid_t pid,
                                                       std::string_view symbol = kJitDescriptorSymbol);

 private:
  using CacheKey = std::tuple<std::string, uint64_t, std::string, std::string>;  // device, inode, path, symbol
  // Scanning every process opens libc & co. hundreds of times otherwise.
  std::map<CacheKey, Result<ElfSymbolLookup>> cache_;
};

}  // namespace jitscope
