// Registers jitvm's compiled code with debuggers: a code event listener over
// debuginfo's JitDebugContext (GDB JIT interface + ART's packing and
// compression policy). Symbol files and entries live in the JIT data region.
//
// Registration is synchronous: a function's single-function entry is linked
// (and __jit_debug_register_code called) before its code is published, so a
// debugger that sets a breakpoint on a Lua line or function hits it on the
// very first run. The expensive part, packing every 64 functions into one
// ELF per 64 KiB range and xz-compressing ranges (~0.1 ms per range), runs
// on a worker thread of this listener (JitDebugOptions::deferred), so
// neither the compiler thread nor a VM waiting for a compile pays for it.
// Compression follows ART (after a code GC, all but the newest range), and
// beyond ART also once no code has been loaded for a while (1 s), so
// programs without code GC get compressed debug info too, but not during
// their compile bursts.
// Sync() waits until the worker is idle: the VM calls it where outside tools
// are known to look (vmtest.stop_here, vmtest.crash, statistics, exit).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "code_cache.h"
#include "debuginfo/jit_debug_context.h"
#include "runtime/jit_event_listener.h"

namespace jitvm {
namespace jit {

enum class DebugInfoMode { kNone, kMini, kFull };

class GdbJitListener : public JitEventListener {
 public:
  // idle_compress: how long no code must be loaded before the stable
  // ranges are compressed (zero: only after code GC, ART's policy).
  GdbJitListener(const jitscope::JitDebugOptions& options, CodeCache* cache,
                 std::chrono::milliseconds idle_compress = kDefaultIdleCompress);
  static constexpr std::chrono::milliseconds kDefaultIdleCompress{1000};
  ~GdbJitListener() override;

  void OnCodeLoaded(const jitscope::CodeInfo& code) override;
  void OnCodeFreed(const jitscope::CodeInfo& code) override;
  void OnCodeGcDone() override;
  // Unregisters every entry at once (a few hundred packed groups) instead of
  // one RemoveCode per function and a repack: jitvm's exit with 20,000
  // functions compiled spent ~1% of its run in those.
  void OnJitShutdown() override;
  void Sync() override;
  jitscope::JitDebugStats stats() {
    Sync();
    return context_->stats();
  }

 private:
  void Wake(bool compress);
  void WorkerLoop();

  CodeCache* cache_;
  const std::chrono::milliseconds idle_compress_;
  std::unique_ptr<jitscope::JitDebugContext> context_;
  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable idle_cv_;
  bool maintain_ = false;  // a pack is due
  bool compress_ = false;  // a code GC finished
  bool busy_ = false;
  bool stop_ = false;
  std::atomic<uint64_t> loads_{0};  // OnCodeLoaded calls so far
  std::thread worker_;
};

}  // namespace jit
}  // namespace jitvm
