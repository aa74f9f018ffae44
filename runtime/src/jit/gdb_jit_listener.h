// Registers jitvm's compiled code with debuggers: a code event listener over
// debuginfo's JitDebugContext (GDB JIT interface + ART's packing and
// compression policy). Symbol files and entries live in the JIT data region.
#pragma once

#include <memory>

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

  void OnCodeLoaded(const jitscope::CodeInfo& code) override { context_->AddCode(code); }
  void OnCodeFreed(const jitscope::CodeInfo& code) override { context_->RemoveCode(code.address); }
  void OnCodeGcDone() override { context_->CompressNow(); }
  jitscope::JitDebugStats stats() { return context_->stats(); }

 private:
  CodeCache* cache_;
  std::unique_ptr<jitscope::JitDebugContext> context_;
};

}  // namespace jit
}  // namespace jitvm
