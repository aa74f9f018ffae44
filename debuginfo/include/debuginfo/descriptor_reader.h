// Reads a GDB JIT descriptor and its entry list from any Memory, following
// the reader protocol in jitscope/jit_debug.h (R1–R4). Accepts Android2,
// Android1 and plain GDB version 1 descriptors. Never trusts the target:
// every pointer and size is validated, walks are bounded, and a target that
// keeps changing or lies produces an error naming the address, not a hang.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "debuginfo/memory.h"
#include "debuginfo/result.h"

namespace jitscope {

enum class DescriptorVariant { kGdbV1, kAndroid1, kAndroid2 };
const char* DescriptorVariantName(DescriptorVariant variant);

struct JitEntrySnapshot {
  uint64_t address = 0;
  uint64_t next = 0;
  uint64_t symfile_addr = 0;
  uint64_t symfile_size = 0;
  uint64_t timestamp = 0;  // Android1 and Android2 only
  uint32_t seqlock = 0;    // Android2 only
  // Non-empty when symfile_addr/size failed validation; the entry is still
  // listed so one bad registration does not hide the others.
  std::string problem;
};

struct DescriptorSnapshot {
  uint64_t address = 0;
  DescriptorVariant variant = DescriptorVariant::kGdbV1;
  uint32_t version = 0;
  uint32_t action_flag = 0;
  uint64_t relevant_entry = 0;
  uint64_t first_entry = 0;
  std::string magic;  // empty for plain GDB
  uint32_t flags = 0;
  uint32_t sizeof_descriptor = 0;
  uint32_t sizeof_entry = 0;
  uint32_t seqlock = 0;
  uint64_t timestamp = 0;
  std::vector<JitEntrySnapshot> entries;  // list order, head first
  int attempts = 0;                       // copies needed for a consistent one
  // False for plain GDB descriptors: without a seqlock the copy is checked
  // only by re-reading the header, so a fast writer can go unnoticed.
  bool synchronized = false;
};

struct DescriptorReaderLimits {
  // ART registers one entry per method before packing; a million is beyond
  // any real JIT yet bounds a walk of corrupted memory to ~50 MB of reads.
  size_t max_entries = 1 << 20;
  // A writer holds the seqlock odd for microseconds; 64 attempts with
  // backoff give it ~50 ms before we call the target unreadable.
  int max_attempts = 64;
  // Mini debug info is a few KiB per entry; full DWARF for one huge chunk
  // stays far below this.
  uint64_t max_symfile_size = 64ull << 20;
  // Largest sizeof_entry/sizeof_descriptor accepted from a descriptor; real
  // ones are 32–56 bytes.
  uint32_t max_struct_size = 4096;
};

class DescriptorReader {
 public:
  explicit DescriptorReader(Memory& memory, DescriptorReaderLimits limits = {});

  Result<DescriptorSnapshot> Read(uint64_t descriptor_address);

  // R4: copies an entry's symbol file, then checks the entry (Android2) or
  // the descriptor (older variants) did not change since `snapshot`.
  Result<std::vector<uint8_t>> ReadSymfile(const DescriptorSnapshot& snapshot, const JitEntrySnapshot& entry);

 private:
  enum class Outcome { kDone, kRetry, kFatal };
  Outcome TryRead(uint64_t address, DescriptorSnapshot* snapshot, std::string* problem);
  Outcome ReadHeader(uint64_t address, DescriptorSnapshot* snapshot, std::string* problem);
  // True if the descriptor still matches `snapshot`'s header (R3).
  bool Unchanged(const DescriptorSnapshot& snapshot);
  // Called on any anomaly: a changed descriptor explains it (retry),
  // an unchanged one means the target's data is bad (fatal).
  Outcome Anomaly(const DescriptorSnapshot& snapshot, std::string message, std::string* problem);

  Memory& memory_;
  DescriptorReaderLimits limits_;
};

}  // namespace jitscope
