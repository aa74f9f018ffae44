// Incremental, consistent snapshots of a target's JIT debug info: the entries
// of every GDB JIT descriptor with their parsed symbol files, read through
// any Memory without stopping the target.
//
// Consistency: a snapshot is the descriptor's state at one moment (its
// timestamp). The list is copied under the descriptor seqlock (R1-R3 in
// jitscope/jit_debug.h); each symbol file is copied and then checked against
// its entry seqlock (Android2) or the descriptor (older variants): a copy that
// may be torn is never used. Plain GDB v1 descriptors have no protocol: the
// whole list and every file are read twice until two reads agree, and the
// snapshot says it is unsynchronized.
//
// Incremental: symbol files are cached by (entry address, seqlock,
// timestamp, symfile address, size): an entry, once valid, never changes
// while linked, so only new entries are copied and parsed. A poll with no
// change costs one read of the descriptor header (seqlock + timestamp).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "debuginfo/descriptor_locator.h"
#include "debuginfo/descriptor_reader.h"
#include "debuginfo/memory.h"
#include "debuginfo/result.h"
#include "debuginfo/symfile.h"

namespace jitscope {

struct SnapshotEntry {
  uint64_t entry_address = 0;
  uint64_t symfile_addr = 0;
  uint64_t symfile_size = 0;
  uint64_t timestamp = 0;  // Android1/2: CLOCK_MONOTONIC ns of registration
  uint32_t seqlock = 0;
  std::shared_ptr<const std::vector<uint8_t>> symfile;  // null when `problem` is set
  std::shared_ptr<const SymfileInfo> info;
  std::string problem;  // why this entry could not be read or parsed
};

struct DescriptorView {
  DescriptorLocation location;
  DescriptorSnapshot header;  // entries left empty: see `entries`
  std::vector<SnapshotEntry> entries;  // list order, newest first
};

struct JitSnapshot {
  std::vector<DescriptorView> descriptors;
  uint64_t taken_ns = 0;   // CLOCK_MONOTONIC when the copy was verified
  bool synchronized = true;  // false if any descriptor is plain GDB v1

  // Totals of registered symbol-file bytes by kind (maps prints them).
  struct Totals {
    uint64_t entries = 0, functions = 0;
    uint64_t unpacked_bytes = 0, packed_bytes = 0, compressed_bytes = 0, other_bytes = 0;
  };
  Totals totals() const;
};

struct SnapshotterStats {
  uint64_t polls = 0;
  uint64_t unchanged_polls = 0;  // answered from the header alone
  uint64_t list_reads = 0;       // full walks of a list
  uint64_t retries = 0;          // walks or copies thrown away because the target changed
  uint64_t symfiles_read = 0;
  uint64_t symfile_bytes = 0;
};

// Parses (and decompresses) every entry that has bytes but no `info` yet:
// snapshots taken with parse = false defer this work to whoever needs the
// symbols ("decompress .gnu_debugdata on demand").
void ParseSnapshotEntries(JitSnapshot* snapshot);

class JitSnapshotter {
 public:
  // parse = false: copy and verify only; entries get `info` from
  // ParseSnapshotEntries (the cache keeps parsed results across polls).
  JitSnapshotter(Memory& memory, std::vector<DescriptorLocation> descriptors, DescriptorReaderLimits limits = {},
                 bool parse = true);

  // Brings the snapshot up to date. Returns whether anything changed since
  // the previous successful poll (the first poll always "changes").
  Result<bool> Poll();
  const JitSnapshot& snapshot() const { return snapshot_; }
  const SnapshotterStats& stats() const { return stats_; }

 private:
  using Key = std::tuple<uint64_t, uint32_t, uint64_t, uint64_t, uint64_t>;
  struct Header {
    bool valid = false;
    uint32_t seqlock = 0;
    uint64_t timestamp = 0;
  };
  // Reads one descriptor completely; retries on change.
  Result<DescriptorView> ReadDescriptor(const DescriptorLocation& location, std::map<Key, SnapshotEntry>* cache);
  Result<bool> HeaderUnchanged(size_t index);

  Memory& memory_;
  std::vector<DescriptorLocation> locations_;
  DescriptorReaderLimits limits_;
  bool parse_;
  DescriptorReader reader_;
  std::vector<Header> headers_;
  std::map<Key, SnapshotEntry> cache_;
  JitSnapshot snapshot_;
  bool have_snapshot_ = false;
  SnapshotterStats stats_;
};

}  // namespace jitscope
