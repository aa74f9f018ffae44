// What the subcommands share: find and read the JIT descriptors of one
// process, keeping per-descriptor failures instead of giving up.
#pragma once

#include <map>
#include <memory>

#include "debuginfo/jit_snapshot.h"
#include "debuginfo/process_maps.h"
#include "debuginfo/snapshot_file.h"
#include "debuginfo/source_blob.h"
#include "unwinder/remote_memory.h"

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "debuginfo/descriptor_locator.h"
#include "debuginfo/descriptor_reader.h"
#include "debuginfo/result.h"

namespace jitscope::cli {

struct DescriptorReport {
  DescriptorLocation location;
  Result<DescriptorSnapshot> snapshot;
};

// Errors: the process does not exist or its maps cannot be read. An empty
// vector means it exports no descriptor.
Result<std::vector<DescriptorReport>> InspectProcess(DescriptorLocator& locator, pid_t pid,
                                                     std::string_view symbol = kJitDescriptorSymbol);

// A live target opened for reading: its maps, its descriptors and an
// up-to-date snapshot of its JIT debug info.
struct Target {
  pid_t pid = 0;
  std::string comm;
  std::vector<MapEntry> maps;
  std::unique_ptr<RemoteMemory> memory;        // live targets
  std::unique_ptr<JitSnapshotter> snapshotter; // live targets
  std::unique_ptr<JitSnapshotter> sources;     // live: __jit_source_descriptor, if any
  std::unique_ptr<ProcessSnapshot> offline;    // a snapshot file instead
  bool frozen = false;                         // the first read was made with every thread stopped
  // Consistent: seqlock-verified, or read while frozen.
  bool synchronized() const { return frozen || jit().synchronized; }

  // Loaded chunks' source text by chunk name (from the source descriptor).
  std::map<std::string, SourceBlob> SourceBlobs() const;

  const JitSnapshot& jit() const { return offline ? offline->jit : snapshotter->snapshot(); }
  // Where code bytes come from: the process, or the snapshot's copy.
  Memory& code_memory() { return offline ? static_cast<Memory&>(offline->code) : *memory; }
};

// Opens PID and takes a first snapshot. Errors are one line a user can act
// on: no such process, permission denied (with what to do), no descriptor,
// the target exited during the read.
// stop: freeze every thread with ptrace during the first read (for plain GDB
// descriptors, which have no seqlock); the target runs on afterwards.
Result<Target> OpenTarget(pid_t pid, const std::string& command, bool stop = false);
// PID or a snapshot file (`jitscope snapshot`). nullopt: neither (usage error).
std::optional<Result<Target>> OpenTargetArgument(const std::string& argument, const std::string& command,
                                                 bool stop = false);

// Reads one descriptor at a known address (no symbol lookup).
Result<DescriptorSnapshot> ReadDescriptorAt(pid_t pid, uint64_t address);

}  // namespace jitscope::cli
