#include "debuginfo/descriptor_locator.h"

#include <sys/stat.h>
#include <unistd.h>

#include <set>

namespace jitscope {
namespace {

uint64_t PageFloor(uint64_t value) {
  static const uint64_t kPageSize = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  return value & ~(kPageSize - 1);
}

std::string RangeName(const MapEntry& map) {
  auto hex = [](uint64_t v) { return HexAddress(v).substr(2); };
  return hex(map.start) + "-" + hex(map.end);
}

// The mapped file as the target sees it: the plain path works unless the
// target lives in another mount namespace or the file was replaced/deleted,
// so candidates are checked against the inode from maps.
std::vector<std::string> CandidatePaths(const MapEntry& map, pid_t pid) {
  std::vector<std::string> paths;
  if (!map.deleted) paths.push_back(map.path);
  if (pid > 0) {
    std::string proc = "/proc/" + std::to_string(pid);
    if (!map.deleted) paths.push_back(proc + "/root" + map.path);
    paths.push_back(proc + "/map_files/" + RangeName(map));
  }
  return paths;
}

bool SameInode(const std::string& path, uint64_t inode) {
  struct stat st{};
  return stat(path.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_ino) == inode;
}

}  // namespace

Result<std::vector<DescriptorLocation>> DescriptorLocator::Locate(pid_t pid, std::string_view symbol) {
  Result<std::vector<MapEntry>> maps = ReadProcessMaps(pid);
  if (!maps) return std::move(maps).take_error();
  return LocateInMaps(*maps, pid, symbol);
}

Result<std::vector<DescriptorLocation>> DescriptorLocator::LocateInMaps(const std::vector<MapEntry>& maps, pid_t pid,
                                                                        std::string_view symbol) {
  std::vector<DescriptorLocation> found;
  std::set<std::tuple<std::string, uint64_t, std::string>> seen_files;
  for (const MapEntry& map : maps) {
    if (!map.IsFileBacked()) continue;
    if (!seen_files.emplace(map.device, map.inode, map.path).second) continue;

    CacheKey key{map.device, map.inode, map.path, std::string(symbol)};
    auto cached = cache_.find(key);
    if (cached == cache_.end()) {
      std::string chosen;
      for (const std::string& candidate : CandidatePaths(map, pid)) {
        if (SameInode(candidate, map.inode)) {
          chosen = candidate;
          break;
        }
      }
      Result<ElfSymbolLookup> lookup =
          chosen.empty() ? Result<ElfSymbolLookup>(Error{"cannot open " + map.path + " as mapped by the target"})
                         : LookupElfSymbol(chosen, symbol);
      cached = cache_.emplace(key, std::move(lookup)).first;
    }
    // Unopenable files cannot define a descriptor we could use; skipping them
    // keeps one odd mapping from hiding the descriptor in another module.
    if (!cached->second.ok() || !cached->second->found) continue;
    const ElfSymbolLookup& lookup = *cached->second;

    // The kernel maps the first PT_LOAD at bias + PageFloor(p_vaddr) from
    // file offset PageFloor(p_offset).
    const MapEntry* base = nullptr;
    for (const MapEntry& candidate : maps) {
      if (candidate.device == map.device && candidate.inode == map.inode && candidate.path == map.path &&
          candidate.offset == PageFloor(lookup.first_load_offset)) {
        base = &candidate;
        break;
      }
    }
    if (base == nullptr) {
      return Error{map.path + " defines " + std::string(symbol) + " but its first segment (file offset " +
                   HexAddress(lookup.first_load_offset) + ") is not mapped"};
    }
    uint64_t bias = lookup.position_independent ? base->start - PageFloor(lookup.first_load_vaddr) : 0;
    found.push_back(DescriptorLocation{lookup.value + bias, map.path});
  }
  return found;
}

}  // namespace jitscope
