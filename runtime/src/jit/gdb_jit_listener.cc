#include "gdb_jit_listener.h"

#include <pthread.h>

#include "crash_handler.h"

namespace jitvm {
namespace jit {

GdbJitListener::GdbJitListener(const jitscope::JitDebugOptions& options_in, CodeCache* cache,
                               std::chrono::milliseconds idle_compress)
    : cache_(cache), idle_compress_(idle_compress) {
  jitscope::JitDebugOptions options = options_in;
  options.deferred = true;
  options.compress_stable_at_pack = false;  // WorkerLoop compresses them when the JIT is idle
  auto alloc = [](void* ctx, size_t bytes) -> uint8_t* { return static_cast<CodeCache*>(ctx)->AllocateData(bytes); };
  auto release = [](void* ctx, uint8_t* p, size_t bytes) { static_cast<CodeCache*>(ctx)->FreeData(p, bytes); };
  context_ = std::make_unique<jitscope::JitDebugContext>(&jitscope::GlobalJitDescriptorWriter(), options, alloc,
                                                          release, cache_);
  // Entries live in the data region too; it is never unmapped while the VM runs.
  jitscope::GlobalJitDescriptorWriter().SetChunkAllocator(
      [](void* ctx, size_t bytes) -> void* { return static_cast<CodeCache*>(ctx)->AllocateData(bytes); }, cache_);
  worker_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "jit-debuginfo");
    InstallCrashAltStack();  // a stack overflow here must reach the crash handler too
    WorkerLoop();
  });
}

GdbJitListener::~GdbJitListener() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;  // the worker drains the queue before it stops
  }
  work_cv_.notify_all();
  worker_.join();
  // The JIT (and its data region) may be gone already: new entries come from the
  // heap from now on, and region memory is not handed back.
  jitscope::GlobalJitDescriptorWriter().SetChunkAllocator(nullptr, nullptr);
  context_->DetachAllocator();
  context_.reset();
}

void GdbJitListener::Wake(bool compress) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (compress) compress_ = true;
    else maintain_ = true;
  }
  work_cv_.notify_one();
}

void GdbJitListener::OnCodeLoaded(const jitscope::CodeInfo& code) {
  context_->AddCode(code);
  loads_.fetch_add(1, std::memory_order_relaxed);
  if (context_->MaintenanceDue()) Wake(false);
}

// After OnJitShutdown the context knows no code: RemoveCode finds nothing.
void GdbJitListener::OnCodeFreed(const jitscope::CodeInfo& code) { context_->RemoveCode(code.address); }

void GdbJitListener::OnJitShutdown() {
  // Called with the compiler thread stopped: no load can follow. The worker
  // may be packing; RemoveAllCode's generation bump makes its result stale.
  context_->RemoveAllCode();
}

void GdbJitListener::OnCodeGcDone() { Wake(true); }

void GdbJitListener::Sync() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_cv_.wait(lock, [this] { return !maintain_ && !compress_ && !busy_; });
}

void GdbJitListener::WorkerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  uint64_t loads_seen = loads_.load(std::memory_order_relaxed);
  for (;;) {
    auto due = [this] { return stop_ || maintain_ || compress_; };
    bool idle_compress = false;
    if (idle_compress_.count() > 0 && context_->CompressionPending()) {
      // Stable ranges wait for a quiet JIT: no code loaded for a whole
      // idle_compress_. A burst of compiles (start-up, a new phase)
      // then pays only for packing, and a VM whose code settled gets its
      // debug info compressed (~6x smaller) a moment later.
      if (!work_cv_.wait_for(lock, idle_compress_, due)) {
        uint64_t loads = loads_.load(std::memory_order_relaxed);
        if (loads != loads_seen) {
          loads_seen = loads;
          continue;
        }
        idle_compress = true;
      }
    } else {
      work_cv_.wait(lock, due);
      loads_seen = loads_.load(std::memory_order_relaxed);
    }
    if (!idle_compress && !maintain_ && !compress_) return;  // stop_, and nothing left to do
    bool maintain = maintain_, compress = compress_ || idle_compress;
    maintain_ = compress_ = false;
    busy_ = true;
    lock.unlock();
    if (maintain) context_->Maintain();
    if (compress) context_->CompressNow();
    // A range that changed while its file was built (both build without the
    // context's lock) is due again at once, so Sync() means "nothing pending".
    while (context_->MaintenanceDue()) context_->Maintain();
    lock.lock();
    busy_ = false;
    if (!maintain_ && !compress_) idle_cv_.notify_all();
  }
}

}  // namespace jit
}  // namespace jitvm
