// Registers each compiled function's CFI with the C++ runtime (libgcc's
// __register_frame of an .eh_frame copy), so in-process unwinders understand
// JIT frames: backtrace(3) walks through them and a C++ exception thrown in
// a native function called from compiled Lua code propagates through the
// compiled frames to its handler.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>

#include "code_cache.h"
#include "runtime/jit_event_listener.h"

namespace jitvm {
namespace jit {

class EhFrameListener : public JitEventListener {
 public:
  // The copies live in the JIT data region: its mapping is near the code, as
  // the pc-relative (sdata4) encoding needs.
  explicit EhFrameListener(CodeCache* cache) : cache_(cache) {}
  ~EhFrameListener() override;
  void OnCodeLoaded(const jitscope::CodeInfo& code) override;
  void OnCodeFreed(const jitscope::CodeInfo& code) override;
  size_t registered() {
    std::lock_guard<std::mutex> lock(mu_);
    return frames_.size();
  }

 private:
  struct Frame {
    uint8_t* buf;
    size_t size;
  };
  CodeCache* cache_;
  std::mutex mu_;
  std::map<uint64_t, Frame> frames_;  // code address -> registered .eh_frame copy
};

}  // namespace jit
}  // namespace jitvm
