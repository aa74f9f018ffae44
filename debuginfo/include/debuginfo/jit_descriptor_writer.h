// The writer side of the GDB JIT interface: maintains one descriptor's entry
// list following the protocol in jitscope/jit_debug.h (rules W1–W8).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "jitscope/jit_debug.h"

namespace jitscope {

class JitDescriptorWriter {
 public:
  // `descriptor` must already hold version/magic/sizes (see
  // InitDescriptor). `notify` is the address of a function pointer that is
  // re-read on every call, so tools may overwrite it (as with
  // __jit_debug_register_code_ptr).
  JitDescriptorWriter(jit_descriptor* descriptor, void (**notify)(void));
  JitDescriptorWriter(const JitDescriptorWriter&) = delete;
  JitDescriptorWriter& operator=(const JitDescriptorWriter&) = delete;

  // Returns the linked entry, or nullptr for an empty/null symfile.
  jit_code_entry* Register(const void* symfile, uint64_t size);
  // False (and no change) if the entry is not currently registered.
  bool Unregister(jit_code_entry* entry);

  // Where new chunks of entries come from (e.g. a JIT's data region). The
  // memory must stay mapped and unused by anything else for the writer's life
  // (W1: entries are never freed). Null (default) = the heap.
  using ChunkAllocator = void* (*)(void* ctx, size_t bytes);
  void SetChunkAllocator(ChunkAllocator alloc, void* ctx);
  size_t live_count() const;
  size_t free_count() const;

  // Fills an Android2 descriptor at rest with an empty list.
  static constexpr jit_descriptor InitDescriptor() {
    return jit_descriptor{
        /*version=*/JITSCOPE_JIT_DEBUG_VERSION,
        /*action_flag=*/JIT_NOACTION,
        /*relevant_entry=*/nullptr,
        /*first_entry=*/nullptr,
        /*magic=*/{'A', 'n', 'd', 'r', 'o', 'i', 'd', '2'},
        /*flags=*/0,
        /*sizeof_descriptor=*/sizeof(jit_descriptor),
        /*sizeof_entry=*/sizeof(jit_code_entry),
        /*seqlock=*/0,
        /*timestamp=*/0,
    };
  }

 private:
  jit_code_entry* AllocateEntry();
  bool IsLive(const jit_code_entry* entry) const;  // one of ours, and linked
  uint64_t NextTimestamp();
  void BeginChange();
  void EndChange(uint32_t action, jit_code_entry* entry, uint64_t timestamp);

  jit_descriptor* const descriptor_;
  void (**const notify_)(void);
  mutable std::mutex mutex_;
  // W1: entries live in chunks that are only released with the writer.
  std::vector<std::unique_ptr<jit_code_entry[]>> chunks_;
  ChunkAllocator chunk_alloc_ = nullptr;
  void* chunk_alloc_ctx_ = nullptr;
  std::vector<jit_code_entry*> free_entries_;
  // Every chunk's [start, end): Unregister checks that it was given one of
  // our entries, and its seqlock says whether it is live (even) or free (odd).
  // Not a set of live entries: inserting into one was 0.8% of a VM compiling
  // 20,000 functions (a node and a cache miss per registration). Chunk
  // starts in a sorted vector: every chunk holds kEntriesPerChunk entries,
  // so the start is all a lookup needs, and a binary search over a few KiB
  // of contiguous starts costs fewer misses than a std::map's cold nodes
  // (IsLive runs for every unregistration).
  std::vector<uintptr_t> chunk_starts_;
  void AddChunk(jit_code_entry* chunk);
  size_t live_count_ = 0;
};

// The process-wide writer for __jit_debug_descriptor; never destroyed, so
// registrations from threads still running at exit stay safe.
JitDescriptorWriter& GlobalJitDescriptorWriter();
// The writer for __jit_source_descriptor (source blobs, see source_blob.h).
JitDescriptorWriter& GlobalSourceDescriptorWriter();

}  // namespace jitscope
