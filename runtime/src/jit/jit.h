// The JIT manager: compile queue and background compiler thread, installed
// code, code GC and eviction, listeners, and the transitions between the
// interpreter and compiled code.
//
// Threads: the VM thread runs Lua and frees code; one compiler thread compiles
// and installs code. Proto::jit_code is published with release ordering after
// the code bytes are written through the RW view, and read with acquire.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "code_cache.h"
#include "debuginfo/code_event.h"
#include "runtime/jit_event_listener.h"
#include "state.h"
#include "value.h"

namespace jitvm {
namespace jit {

struct JitOptions {
  bool enabled = true;
  int threshold = 100;            // calls (or back edges / kBackedgeFactor) before compiling
  bool frame_pointers = true;     // push rbp; mov rbp, rsp prologue
  size_t cache_size = size_t{64} << 20;
  bool stats = false;
  // Ends every compiled function with an 8-byte tag (pid and a serial number,
  // never executed: it follows the final ud2) so that no two loads have the
  // same bytes. perf inject derives a jitted .so's build-id from the code
  // bytes, and identical build-ids make perf confuse the files.
  bool unique_code = false;
  // Code in anonymous shared memory instead of the memfd (CodeCache::Views),
  // for --perf-map: perf reads perf-PID.map only for anonymous mappings.
  bool anonymous_code = false;
};

// Entry of compiled code: runs the function whose frame `ci` is (already pushed);
// when `osr_target` is not null, jumps there (a bytecode boundary) after the
// prologue. Returns 1 if the caller wanted a fixed number of results.
using JitEntry = int (*)(State* L, CallInfo* ci, const void* osr_target);

// What compiled callers read when they push a compiled callee's frame inline
// (OP_CALL's fast path): the first member of JitCode, so generated code
// addresses it at fixed offsets from the JitCode* in Proto::jit_code.
// JitCode::pc_offsets of a bytecode where on-stack replacement cannot enter.
constexpr uint32_t kNoOsrEntry = 0xffffffffu;

struct JitCallHeader {
  JitEntry entry = nullptr;
  const Instruction* code = nullptr;  // p->code.data(): the callee's initial savedpc
  uint32_t* call_count = nullptr;     // &p->call_count (eviction picks the coldest code)
  uint32_t maxstacksize = 0;
  uint32_t numparams = 0;
  uint32_t fixed_arity = 0;           // 1 when the callee is not vararg (inline call allowed)
  // Past the prologue: where an inline tail call from other compiled code
  // continues, in the frame the caller already has. Every compiled function
  // of a Jit has the same prologue (the same pushes, the same frame shape),
  // so the caller's frame is exactly the one this code would have built.
  const void* body_entry = nullptr;
};

struct JitCode {
  JitCallHeader call;  // must stay first (checked in Jit::Install)
  Proto* proto = nullptr;
  uint8_t* rx = nullptr;        // code start (RX view)
  size_t size = 0;              // bytes allocated
  JitEntry entry = nullptr;
  std::vector<uint32_t> pc_offsets;  // bytecode pc -> code offset of its OSR entry, or kNoOsrEntry
  jitscope::CodeInfo info;
};

struct JitStats {
  uint64_t compiled = 0;
  uint64_t failed = 0;
  uint64_t compile_ns = 0;
  uint64_t bytecodes = 0;
  uint64_t code_bytes = 0;
  uint64_t freed_bytes = 0;
  uint64_t freed = 0;
  uint64_t evictions = 0;
  uint64_t osr_entries = 0;
};

class Jit {
 public:
  static std::unique_ptr<Jit> Create(State* L, const JitOptions& options, std::string* error);
  ~Jit();

  const JitOptions& options() const { return options_; }
  void AddListener(JitEventListener* listener);

  // VM thread: a Lua function became hot (or threshold 0: before its first call).
  void RequestCompile(Proto* p, bool wait);
  // VM thread, at safe points: evictions requested by the compiler thread.
  void ServiceRequests();
  bool has_requests() const { return requests_.load(std::memory_order_relaxed) != 0; }
  // GC: protos referenced by pending jobs are roots.
  template <typename F>
  void ForEachPendingProto(F f) {
    std::lock_guard<std::mutex> lock(mu_);
    for (Proto* p : queue_) f(p);
    for (Proto* p : blocked_) f(p);
    if (in_progress_) f(in_progress_);
  }
  // GC: a prototype is being freed; its code (never on a stack then) goes too.
  void OnProtoFree(Proto* p);
  // GC: the sweep is over; if it freed code, listeners hear OnCodeGcDone.
  void AfterGc();
  // Frees all code not on the VM's stack (vmtest.flush_jit).
  void FlushAll();
  // Waits until every listener has made all code events so far visible to
  // outside tools (debug info is registered asynchronously).
  void SyncListeners();
  void PrintStats(FILE* out);
  const JitStats& stats() const { return stats_; }
  // Snapshot of installed code descriptions (for tests and tools).
  std::vector<jitscope::CodeInfo> InstalledCode();
  bool IsJitPc(uintptr_t pc);
  void CountOsrEntry() { stats_.osr_entries++; }
  CodeCache* cache() { return cache_.get(); }

 private:
  Jit(State* L, const JitOptions& options) : L_(L), options_(options) {}
  void CompilerLoop();
  int CompileOne(Proto* p);  // compiler thread: 0 installed, 1 failed, 2 cache full
  void FreeCode(JitCode* code, bool evicted);  // VM thread, lock held
  bool OnStack(const JitCode* code) const;
  void Evict();  // VM thread, lock held
  std::string NameFor(Proto* p);

  State* L_;
  JitOptions options_;
  std::unique_ptr<CodeCache> cache_;
  std::mutex mu_;
  std::condition_variable cv_;       // compiler thread waits for work
  std::condition_variable done_cv_;  // waiters for synchronous compiles
  std::deque<Proto*> queue_;
  Proto* in_progress_ = nullptr;
  std::deque<Proto*> blocked_;       // waiting for space (cache full)
  std::atomic<int> requests_{0};
  bool stop_ = false;
  std::thread thread_;
  std::vector<JitEventListener*> listeners_;
  uint32_t next_code_serial_ = 0;  // unique_code tags; compiler thread only
  std::unordered_map<Proto*, JitCode*> installed_;
  std::unordered_map<std::string, Proto*> names_;
  JitStats stats_;
  bool freed_in_gc_ = false;
};

// Interpreter side of the transitions (jit_runtime.cc).
// Runs compiled code for the frame L->ci (already pushed by precall); returns
// whether the caller wanted fixed results. Errors propagate as LuaError.
int jit_run(State* L, JitCode* code, const void* osr_target);
// Interpreter at a loop back edge of frame `ci` (next instruction `pc`): enters
// compiled code there if the function has it (requesting a compile otherwise).
// Returns -1 when it did not, else the function has returned through compiled
// code and the result is jit_run's.
int osr_enter(State* L, CallInfo* ci, const Instruction* pc);

}  // namespace jit
}  // namespace jitvm
