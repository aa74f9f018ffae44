// A self-contained snapshot of a process's JIT state for offline use
// (`jitscope snapshot PID -o FILE`; every command that takes a PID also takes
// such a file). Format version 1, little-endian:
//
//   offset  size  field
//   0       8     magic "JSCPSNAP"
//   8       4     version (1)
//   12      4     flags (0)
//   16      8     json_size: bytes of the JSON document that follows
//   24      8     blob_size: bytes of the blob area after the JSON
//   32      json_size   JSON document (UTF-8), described in docs/cli.md
//   ...     blob_size   blobs: symbol files and code bytes, referenced from
//                       the JSON by {"blob_offset", "blob_size"} relative to
//                       the start of the blob area
//
// Readers check every size and offset against the file; unknown JSON keys
// are ignored, a newer version is refused.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "debuginfo/jit_snapshot.h"
#include "debuginfo/memory.h"
#include "debuginfo/process_maps.h"
#include "debuginfo/result.h"

namespace jitscope {

inline constexpr char kSnapshotMagic[8] = {'J', 'S', 'C', 'P', 'S', 'N', 'A', 'P'};
inline constexpr uint32_t kSnapshotVersion = 1;
// Bounds what a capture copies and what a reader accepts.
inline constexpr uint64_t kMaxSnapshotCodeBytes = uint64_t{512} << 20;
inline constexpr uint64_t kMaxSnapshotFileBytes = uint64_t{2} << 30;

struct ProcessSnapshot {
  int pid = 0;
  std::string comm;
  std::vector<MapEntry> maps;
  JitSnapshot jit;
  JitSnapshot sources;  // __jit_source_descriptor: entries hold source blobs
  SnapshotMemory code;  // the bytes of every JIT function, at their addresses
};

// Copies the code of every function in `snapshot.jit` from `memory` (ranges
// merged; functions that cannot be read are skipped and counted).
size_t CaptureJitCode(Memory& memory, ProcessSnapshot* snapshot);

// Written atomically (temporary file, fsync, rename).
Result<bool> WriteSnapshotFile(const ProcessSnapshot& snapshot, const std::string& path);
Result<ProcessSnapshot> ReadSnapshotFile(const std::string& path);
// Whether `path` starts with the snapshot magic (to tell a FILE from a PID).
bool LooksLikeSnapshotFile(const std::string& path);

}  // namespace jitscope
