// What the subcommands share: find and read the JIT descriptors of one
// process, keeping per-descriptor failures instead of giving up.
#pragma once

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

// Reads one descriptor at a known address (no symbol lookup).
Result<DescriptorSnapshot> ReadDescriptorAt(pid_t pid, uint64_t address);

}  // namespace jitscope::cli
