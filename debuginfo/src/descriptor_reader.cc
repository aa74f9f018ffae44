#include "debuginfo/descriptor_reader.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>
#include <unordered_set>

#include "jitscope/jit_debug.h"

namespace jitscope {
namespace {

constexpr uint32_t kExpectedVersion = JITSCOPE_JIT_DEBUG_VERSION;
constexpr size_t kMagicOffset = offsetof(jit_descriptor, magic);
constexpr size_t kMagicSize = sizeof(jit_descriptor::magic);
// Pointers in the list are to 8-byte aligned structs on every 64-bit ABI.
constexpr uint64_t kPointerAlignment = 8;

template <typename T>
T Field(const uint8_t* bytes, size_t offset) {
  T value;
  std::memcpy(&value, bytes + offset, sizeof(value));
  return value;
}

size_t EntryLayoutSize(DescriptorVariant variant) {
  switch (variant) {
    case DescriptorVariant::kGdbV1:
      return JITSCOPE_JIT_DEBUG_ENTRY_SIZE_V1;
    case DescriptorVariant::kAndroid1:
      return JITSCOPE_JIT_DEBUG_ENTRY_SIZE_ANDROID1;
    case DescriptorVariant::kAndroid2:
      return JITSCOPE_JIT_DEBUG_ENTRY_SIZE_ANDROID2;
  }
  return JITSCOPE_JIT_DEBUG_ENTRY_SIZE_ANDROID2;
}

void Backoff(int attempt) {
  // 10 µs doubling up to 1 ms: short enough to catch a writer between two
  // registrations, long enough not to spin against a busy one.
  int shift = std::min(attempt, 7);
  std::this_thread::sleep_for(std::chrono::microseconds(std::min(10 << shift, 1000)));
}

}  // namespace

const char* DescriptorVariantName(DescriptorVariant variant) {
  switch (variant) {
    case DescriptorVariant::kGdbV1:
      return "gdb-v1";
    case DescriptorVariant::kAndroid1:
      return "Android1";
    case DescriptorVariant::kAndroid2:
      return "Android2";
  }
  return "?";
}

DescriptorReader::DescriptorReader(Memory& memory, DescriptorReaderLimits limits)
    : memory_(memory), limits_(limits) {}

Result<DescriptorSnapshot> DescriptorReader::Read(uint64_t address) {
  if (address == 0 || address % kPointerAlignment != 0) {
    return Error{"descriptor address " + HexAddress(address) + " is null or misaligned"};
  }
  std::string problem;
  for (int attempt = 1; attempt <= limits_.max_attempts; attempt++) {
    if (attempt > 1) Backoff(attempt);
    DescriptorSnapshot snapshot;
    switch (TryRead(address, &snapshot, &problem)) {
      case Outcome::kDone:
        snapshot.attempts = attempt;
        return snapshot;
      case Outcome::kFatal:
        return Error{problem};
      case Outcome::kRetry:
        break;
    }
  }
  return Error{"descriptor at " + HexAddress(address) + " kept changing during " +
               std::to_string(limits_.max_attempts) + " attempts (last: " + problem + ")"};
}

DescriptorReader::Outcome DescriptorReader::ReadHeader(uint64_t address, DescriptorSnapshot* snapshot,
                                                       std::string* problem) {
  uint8_t bytes[JITSCOPE_JIT_DEBUG_DESCRIPTOR_SIZE_ANDROID] = {};
  if (!memory_.ReadFully(address, bytes, JITSCOPE_JIT_DEBUG_DESCRIPTOR_SIZE_V1)) {
    *problem = "cannot read descriptor at " + HexAddress(address);
    return Outcome::kFatal;
  }
  snapshot->address = address;
  snapshot->version = Field<uint32_t>(bytes, offsetof(jit_descriptor, version));
  snapshot->action_flag = Field<uint32_t>(bytes, offsetof(jit_descriptor, action_flag));
  snapshot->relevant_entry = Field<uint64_t>(bytes, offsetof(jit_descriptor, relevant_entry));
  snapshot->first_entry = Field<uint64_t>(bytes, offsetof(jit_descriptor, first_entry));
  if (snapshot->version != kExpectedVersion) {
    *problem = "descriptor at " + HexAddress(address) + " has unsupported version " +
               std::to_string(snapshot->version) + " (expected 1)";
    return Outcome::kFatal;
  }
  // A plain GDB descriptor is 24 bytes and may sit at the end of a mapping,
  // so failing to read the extension only means there is none.
  bool extended = memory_.ReadFully(address + JITSCOPE_JIT_DEBUG_DESCRIPTOR_SIZE_V1,
                                    bytes + JITSCOPE_JIT_DEBUG_DESCRIPTOR_SIZE_V1,
                                    sizeof(bytes) - JITSCOPE_JIT_DEBUG_DESCRIPTOR_SIZE_V1);
  std::string_view magic(reinterpret_cast<const char*>(bytes) + kMagicOffset, kMagicSize);
  if (extended && magic == JITSCOPE_JIT_DEBUG_MAGIC_ANDROID2) {
    snapshot->variant = DescriptorVariant::kAndroid2;
  } else if (extended && magic == JITSCOPE_JIT_DEBUG_MAGIC_ANDROID1) {
    snapshot->variant = DescriptorVariant::kAndroid1;
  } else {
    snapshot->variant = DescriptorVariant::kGdbV1;
    snapshot->sizeof_entry = JITSCOPE_JIT_DEBUG_ENTRY_SIZE_V1;
    snapshot->sizeof_descriptor = JITSCOPE_JIT_DEBUG_DESCRIPTOR_SIZE_V1;
    snapshot->synchronized = false;
    return Outcome::kDone;
  }
  snapshot->magic = std::string(magic);
  snapshot->flags = Field<uint32_t>(bytes, offsetof(jit_descriptor, flags));
  snapshot->sizeof_descriptor = Field<uint32_t>(bytes, offsetof(jit_descriptor, sizeof_descriptor));
  snapshot->sizeof_entry = Field<uint32_t>(bytes, offsetof(jit_descriptor, sizeof_entry));
  snapshot->seqlock = Field<uint32_t>(bytes, offsetof(jit_descriptor, seqlock));
  snapshot->timestamp = Field<uint64_t>(bytes, offsetof(jit_descriptor, timestamp));
  snapshot->synchronized = true;
  // These sizes never change at run time, so a bad one is fatal, not torn.
  size_t needed_entry = EntryLayoutSize(snapshot->variant);
  if (snapshot->sizeof_entry < needed_entry || snapshot->sizeof_entry > limits_.max_struct_size ||
      snapshot->sizeof_descriptor < JITSCOPE_JIT_DEBUG_DESCRIPTOR_SIZE_ANDROID ||
      snapshot->sizeof_descriptor > limits_.max_struct_size) {
    *problem = "descriptor at " + HexAddress(address) + " (" + snapshot->magic + ") declares sizeof_descriptor " +
               std::to_string(snapshot->sizeof_descriptor) + " and sizeof_entry " +
               std::to_string(snapshot->sizeof_entry) + "; expected at least 56 and " + std::to_string(needed_entry);
    return Outcome::kFatal;
  }
  if (snapshot->seqlock % 2 != 0) {
    *problem = "descriptor at " + HexAddress(address) + " is being changed (seqlock " +
               std::to_string(snapshot->seqlock) + ")";
    return Outcome::kRetry;
  }
  // R1: the list head must be read after the seqlock, or a head from before
  // a change could pair with the seqlock value from after it. The copy above
  // read the fields in address order (head first), so read them again.
  if (!memory_.ReadFully(address, bytes, JITSCOPE_JIT_DEBUG_DESCRIPTOR_SIZE_V1)) {
    *problem = "cannot read descriptor at " + HexAddress(address);
    return Outcome::kFatal;
  }
  snapshot->action_flag = Field<uint32_t>(bytes, offsetof(jit_descriptor, action_flag));
  snapshot->relevant_entry = Field<uint64_t>(bytes, offsetof(jit_descriptor, relevant_entry));
  snapshot->first_entry = Field<uint64_t>(bytes, offsetof(jit_descriptor, first_entry));
  return Outcome::kDone;
}

bool DescriptorReader::Unchanged(const DescriptorSnapshot& snapshot) {
  DescriptorSnapshot again;
  std::string ignored;
  if (ReadHeader(snapshot.address, &again, &ignored) != Outcome::kDone) return false;
  if (again.variant != snapshot.variant) return false;
  if (snapshot.variant == DescriptorVariant::kGdbV1) {
    return again.first_entry == snapshot.first_entry && again.relevant_entry == snapshot.relevant_entry &&
           again.action_flag == snapshot.action_flag;
  }
  return again.seqlock == snapshot.seqlock && again.timestamp == snapshot.timestamp;
}

DescriptorReader::Outcome DescriptorReader::Anomaly(const DescriptorSnapshot& snapshot, std::string message,
                                                    std::string* problem) {
  *problem = std::move(message);
  return Unchanged(snapshot) ? Outcome::kFatal : Outcome::kRetry;
}

DescriptorReader::Outcome DescriptorReader::TryRead(uint64_t address, DescriptorSnapshot* snapshot,
                                                    std::string* problem) {
  Outcome header = ReadHeader(address, snapshot, problem);
  if (header != Outcome::kDone) return header;

  const size_t layout_size = EntryLayoutSize(snapshot->variant);
  // Entries sit together in pages (writers allocate them in chunks): one
  // read per page instead of one per entry. Fresh for every attempt; the
  // copy is only trusted after R3 below.
  PageCacheMemory pages(memory_);
  std::unordered_set<uint64_t> visited;
  uint64_t previous = address;
  uint64_t current = snapshot->first_entry;
  uint8_t bytes[JITSCOPE_JIT_DEBUG_ENTRY_SIZE_ANDROID2];
  while (current != 0) {
    // Built only on the error paths: walks can be a million entries long.
    auto where = [&] { return "entry " + HexAddress(current) + " (linked from " + HexAddress(previous) + ")"; };
    if (snapshot->entries.size() >= limits_.max_entries) {
      return Anomaly(*snapshot,
                     "descriptor at " + HexAddress(address) + " has more than " +
                         std::to_string(limits_.max_entries) + " entries",
                     problem);
    }
    if (current % kPointerAlignment != 0) return Anomaly(*snapshot, where() + " is misaligned", problem);
    if (!visited.insert(current).second) {
      return Anomaly(*snapshot, where() + " was already visited: the list has a loop", problem);
    }
    if (!pages.ReadFully(current, bytes, layout_size)) {
      return Anomaly(*snapshot, "cannot read " + where(), problem);
    }
    JitEntrySnapshot entry;
    entry.address = current;
    entry.next = Field<uint64_t>(bytes, offsetof(jit_code_entry, next));
    entry.symfile_addr = Field<uint64_t>(bytes, offsetof(jit_code_entry, symfile_addr));
    entry.symfile_size = Field<uint64_t>(bytes, offsetof(jit_code_entry, symfile_size));
    if (snapshot->variant != DescriptorVariant::kGdbV1) {
      entry.timestamp = Field<uint64_t>(bytes, offsetof(jit_code_entry, timestamp));
    }
    if (snapshot->variant == DescriptorVariant::kAndroid2) {
      entry.seqlock = Field<uint32_t>(bytes, offsetof(jit_code_entry, seqlock));
      // W5 says a linked entry is valid; an odd one was unlinked while we
      // walked, which the descriptor seqlock will show.
      if (entry.seqlock % 2 != 0) {
        return Anomaly(*snapshot, where() + " is invalid (seqlock " + std::to_string(entry.seqlock) + ")", problem);
      }
    }
    if (entry.symfile_addr == 0 || entry.symfile_size == 0) {
      entry.problem = "empty symfile";
    } else if (entry.symfile_size > limits_.max_symfile_size) {
      entry.problem = "symfile size " + std::to_string(entry.symfile_size) + " exceeds the limit of " +
                      std::to_string(limits_.max_symfile_size);
    } else if (entry.symfile_addr + entry.symfile_size < entry.symfile_addr) {
      entry.problem = "symfile at " + HexAddress(entry.symfile_addr) + " wraps around the address space";
    }
    snapshot->entries.push_back(std::move(entry));
    previous = current;
    current = snapshot->entries.back().next;
  }
  // R3: everything above is only true if nothing changed meanwhile.
  if (!Unchanged(*snapshot)) {
    *problem = "descriptor at " + HexAddress(address) + " changed while its list was copied";
    return Outcome::kRetry;
  }
  return Outcome::kDone;
}

Result<std::vector<uint8_t>> DescriptorReader::ReadSymfile(const DescriptorSnapshot& snapshot,
                                                           const JitEntrySnapshot& entry) {
  if (!entry.problem.empty()) {
    return Error{"entry " + HexAddress(entry.address) + " has no usable symfile: " + entry.problem};
  }
  std::vector<uint8_t> bytes(entry.symfile_size);
  if (!memory_.ReadFully(entry.symfile_addr, bytes.data(), bytes.size())) {
    return Error{"cannot read symfile of entry " + HexAddress(entry.address) + " at " +
                 HexAddress(entry.symfile_addr) + " (" + std::to_string(entry.symfile_size) + " bytes)"};
  }
  bool still_valid;
  if (snapshot.variant == DescriptorVariant::kAndroid2) {
    uint32_t seqlock = 0;
    still_valid = memory_.Read32(entry.address + offsetof(jit_code_entry, seqlock), &seqlock) &&
                  seqlock == entry.seqlock;
  } else {
    still_valid = Unchanged(snapshot);
  }
  if (!still_valid) {
    return Error{"entry " + HexAddress(entry.address) + " changed while its symfile was copied; take a new snapshot"};
  }
  return bytes;
}

}  // namespace jitscope
