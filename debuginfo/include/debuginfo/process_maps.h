// /proc/PID/maps, parsed.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "debuginfo/result.h"

namespace jitscope {

struct MapEntry {
  uint64_t start = 0;
  uint64_t end = 0;
  uint64_t offset = 0;
  bool readable = false;
  bool writable = false;
  bool executable = false;
  bool shared = false;
  std::string device;  // "fd:01"
  uint64_t inode = 0;
  std::string path;    // empty for anonymous mappings; "[stack]" etc. kept
  bool deleted = false;  // the kernel appended " (deleted)"; stripped from path

  // A regular file (not anonymous, not [heap]/[vdso]/memfd pseudo-paths).
  bool IsFileBacked() const;
  // "r-xp" as in /proc/PID/maps.
  std::string Perms() const;
};

Result<std::vector<MapEntry>> ParseProcessMaps(std::string_view text);
Result<std::vector<MapEntry>> ReadProcessMaps(pid_t pid);

}  // namespace jitscope
