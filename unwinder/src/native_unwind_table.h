// Unwind tables of native modules: each mapped ELF file's .eh_frame_hdr
// binary-search table and .eh_frame, found through PT_GNU_EH_FRAME and
// served at the module's load bias. The bytes come from the file (opened
// from the maps' path, /proc/PID/map_files, or a ModuleFileResolver
// offline), not from the target: offline captures do not hold them, and a
// file read is cheaper than remote reads. The vdso has no file; live, its
// image is read from the target.
#pragma once

#include <libunwind.h>
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "debuginfo/memory.h"
#include "debuginfo/process_maps.h"
#include "unwinder/unwinder.h"

namespace jitscope {

class NativeUnwindTable {
 public:
  NativeUnwindTable(const std::vector<MapEntry>& maps, Memory& memory, ModuleFileResolver* files, pid_t pid);
  ~NativeUnwindTable();
  NativeUnwindTable(const NativeUnwindTable&) = delete;
  NativeUnwindTable& operator=(const NativeUnwindTable&) = delete;

  // libunwind's description of the table covering pc (REMOTE_TABLE format,
  // addresses in the target), or nullopt if pc is in no module with one.
  std::optional<unw_dyn_info_t> Find(uint64_t pc);
  // Serves reads of the modules' read-only segments from their files:
  // bytes copied (short at a segment's end), 0 if addr is in none (the
  // caller then reads the target).
  size_t Read(uint64_t addr, void* dst, size_t n) { return ReadSegments(addr, dst, n, /*writable=*/false); }
  // The file's bytes of writable segments, for when the target's memory is
  // not there (offline): unrelocated, so only good for what unwinding reads
  // but does not use (a CIE's indirect personality pointer in .data).
  size_t ReadWritableFallback(uint64_t addr, void* dst, size_t n) {
    return ReadSegments(addr, dst, n, /*writable=*/true);
  }

 private:
  struct Segment {
    uint64_t start = 0, end = 0;  // run-time addresses of the file-backed bytes
    const uint8_t* bytes = nullptr;
    bool writable = false;
  };
  size_t ReadSegments(uint64_t addr, void* dst, size_t n, bool writable);
  struct Module {
    std::string key;
    bool ok = false;
    const uint8_t* image = nullptr;  // the mapped file, or `copy`
    size_t size = 0;
    std::vector<uint8_t> copy;  // the vdso's image
    uint64_t bias = 0;
    uint64_t hdr_vaddr = 0, hdr_size = 0;
    uint64_t exec_start = 0, exec_end = 0;  // run-time range the table covers
  };
  Module* ModuleFor(const MapEntry& map);
  bool OpenImage(const MapEntry& map, Module* module);
  bool Describe(Module* module, const MapEntry& map);

  const std::vector<MapEntry>& maps_;
  Memory& memory_;
  ModuleFileResolver* files_;
  pid_t pid_;
  std::map<std::string, std::unique_ptr<Module>> modules_;  // by path and bias
  std::vector<Segment> segments_;                           // sorted by start
  std::vector<std::pair<void*, size_t>> mappings_;          // munmap'd on destruction
};

}  // namespace jitscope
