// libFuzzer: the GDB JIT descriptor reader and the snapshotter over a hostile
// target. The input is the target's memory, mapped at kBase; the descriptor
// sits at its start. Whatever the bytes (cycles, huge sizes, torn seqlocks,
// pointers anywhere), reading must end with a snapshot or an error, without
// crashing, hanging or allocating without bound.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "debuginfo/descriptor_reader.h"
#include "debuginfo/jit_snapshot.h"
#include "debuginfo/memory.h"

namespace {
constexpr uint64_t kBase = 0x10000;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  jitscope::BufferMemory memory(kBase, std::vector<uint8_t>(data, data + size));
  jitscope::DescriptorReaderLimits limits;
  limits.max_attempts = 2;  // a buffer never changes: retries only cost time
  limits.max_entries = 4096;
  limits.max_symfile_size = 1 << 20;
  jitscope::DescriptorReader reader(memory, limits);
  jitscope::Result<jitscope::DescriptorSnapshot> snap = reader.Read(kBase);
  if (snap) {
    for (const jitscope::JitEntrySnapshot& e : snap->entries) (void)reader.ReadSymfile(*snap, e);
  }
  jitscope::JitSnapshotter snapshotter(memory, {jitscope::DescriptorLocation{kBase, "fuzz"}}, limits);
  (void)snapshotter.Poll();
  (void)snapshotter.Poll();  // the no-change path
  return 0;
}
