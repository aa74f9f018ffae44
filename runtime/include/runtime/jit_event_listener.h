// Code events of the jitvm JIT. The runtime reports code it loads and frees to
// listeners and knows nothing of what they do with it (GDB JIT interface, perf
// map, jitdump, tombstone capture). Loads are reported on the compiler thread
// only, without the JIT's lock, before the code can run; frees and
// OnCodeGcDone with the lock held, on the VM thread. So a load may run at the
// same time as the free of other code: listeners lock what the two share.
// A code's load always comes before its free. Listeners must be quick and
// must not call back into the VM; slow work belongs on a thread of the
// listener's own (see Sync).
#pragma once

#include "debuginfo/code_event.h"

namespace jitvm {

class JitEventListener {
 public:
  virtual ~JitEventListener() = default;
  virtual void OnCodeLoaded(const jitscope::CodeInfo& code) = 0;
  // `code` is the same description that was loaded; its memory is reused after this returns.
  virtual void OnCodeFreed(const jitscope::CodeInfo& code) = 0;
  // A garbage collection that freed code has finished (a time to compact).
  virtual void OnCodeGcDone() {}
  // The JIT is going away: every installed code is freed right after this
  // (its OnCodeFreed follows, then OnCodeGcDone and Sync). A listener may
  // drop everything at once here and then ignore those frees.
  virtual void OnJitShutdown() {}
  // Returns once everything reported so far is visible to outside tools (a
  // listener that works asynchronously waits for its queue here).
  virtual void Sync() {}
  // Bytes this listener needs left unused after a function of `code_size`
  // bytes with this frame (asked on the compiler thread before the code is
  // placed; must not depend on the address).
  virtual uint64_t ReservedTailBytes(const jitscope::FrameDescription& frame, uint64_t code_size) { return 0; }
};

}  // namespace jitvm
