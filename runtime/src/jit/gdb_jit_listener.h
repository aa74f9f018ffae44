// Registers jitvm's compiled code with debuggers: a code event listener over
// debuginfo's JitDebugContext (GDB JIT interface + ART's packing and
// compression policy). Symbol files and entries live in the JIT data region.
//
// Registration is synchronous: a function's single-function entry is linked
// (and __jit_debug_register_code called) before its code is published, so a
// debugger that sets a breakpoint on a Lua line or function hits it on the
// very first run. The expensive part, packing every 64 functions into one
// ELF per 64 KiB range and xz-compressing stable ranges (~0.1 ms per range),
// runs on a worker thread of this listener (JitDebugOptions::deferred), so
// neither the compiler thread nor a VM waiting for a compile pays for it.
// Sync() waits until the worker is idle: the VM calls it where outside tools
// are known to look (vmtest.stop_here, vmtest.crash, statistics, exit).
#pragma once

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
  GdbJitListener(const jitscope::JitDebugOptions& options, CodeCache* cache);
  ~GdbJitListener() override;

  void OnCodeLoaded(const jitscope::CodeInfo& code) override;
  void OnCodeFreed(const jitscope::CodeInfo& code) override;
  void OnCodeGcDone() override;
  void Sync() override;
  jitscope::JitDebugStats stats() {
    Sync();
    return context_->stats();
  }

 private:
  void Wake(bool compress);
  void WorkerLoop();

  CodeCache* cache_;
  std::unique_ptr<jitscope::JitDebugContext> context_;
  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable idle_cv_;
  bool maintain_ = false;  // a pack is due
  bool compress_ = false;  // a code GC finished
  bool busy_ = false;
  bool stop_ = false;
  std::thread worker_;
};

}  // namespace jit
}  // namespace jitvm
