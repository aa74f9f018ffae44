#include "gdb_jit_listener.h"

namespace jitvm {
namespace jit {

GdbJitListener::GdbJitListener(const jitscope::JitDebugOptions& options, CodeCache* cache) : cache_(cache) {
  auto alloc = [](void* ctx, size_t bytes) -> uint8_t* { return static_cast<CodeCache*>(ctx)->AllocateData(bytes); };
  auto release = [](void* ctx, uint8_t* p, size_t bytes) { static_cast<CodeCache*>(ctx)->FreeData(p, bytes); };
  context_ = std::make_unique<jitscope::JitDebugContext>(&jitscope::GlobalJitDescriptorWriter(), options, alloc,
                                                          release, cache_);
  // Entries live in the data region too; it is never unmapped while the VM runs.
  jitscope::GlobalJitDescriptorWriter().SetChunkAllocator(
      [](void* ctx, size_t bytes) -> void* { return static_cast<CodeCache*>(ctx)->AllocateData(bytes); }, cache_);
}

GdbJitListener::~GdbJitListener() {
  // The JIT (and its data region) may be gone already: new entries come from the
  // heap from now on, and region memory is not handed back.
  jitscope::GlobalJitDescriptorWriter().SetChunkAllocator(nullptr, nullptr);
  context_->DetachAllocator();
  context_.reset();
}

}  // namespace jit
}  // namespace jitvm
