// Interpreter state, call frames and the global state.
//
// The value stack is one fixed reservation (kStackSlots values, mapped with
// MAP_NORESERVE so only touched pages cost memory). Stack slots therefore never
// move: interpreter, natives and JIT code may keep raw Value* into the stack.
#pragma once

#include <cstdarg>
#include <string>

#include "alloc.h"
#include "table.h"
#include "value.h"

namespace jitvm {

constexpr size_t kStackSlots = 1u << 22;   // 64 MiB of reservation; far above any frame need
constexpr int kMaxCalls = 20000;           // LUAI_MAXCALLS: Lua-level "stack overflow"
constexpr int kMinStackForNative = 20;     // LUA_MINSTACK: slots guaranteed to a native

struct CallInfo {
  Value* func;    // the called function's slot
  Value* base;    // first argument / register 0
  Value* top;     // for Lua: base + maxstacksize; for natives: limit of pushes
  const Instruction* savedpc;  // Lua frames: next instruction to run
  int nresults;   // expected results (kMultRet = -1 for all)
  int tailcalls;  // tail calls lost below this frame (for tracebacks)
  void* jit;      // jit::JitCode* running this frame, or null (interpreted)
  uint8_t tier;   // 0 interpreter, 1 baseline, 2 entered by OSR
};

// Tagged metamethod names, in Lua 5.1's TMS order.
enum TMS {
  TM_INDEX, TM_NEWINDEX, TM_GC, TM_MODE, TM_EQ, TM_ADD, TM_SUB, TM_MUL, TM_DIV, TM_MOD,
  TM_POW, TM_UNM, TM_LEN, TM_LT, TM_LE, TM_CONCAT, TM_CALL, TM_N
};

struct Global;
namespace jit {
class Jit;
}

struct State {
  Value* stack;       // kStackSlots slots
  Value* stack_last;  // stack + kStackSlots - extra
  Value* top;         // first free slot
  Value* base;        // base of the current function
  CallInfo* ci;       // current frame
  CallInfo* base_ci;  // frame array [kMaxCalls + extra]
  CallInfo* end_ci;
  int n_ccalls;       // nested native/metamethod C-level calls
  UpVal* open_upval;  // open upvalues, highest stack level first
  Global* g;
  Value globals;      // the globals table (environment of main chunks)
  Value registry;
  int hook_budget;    // instruction budget for the fuzzer; <0 = unlimited
  Value* stack_hwm;   // highest slot any frame has used (GC clears stale slots up to here)
  Value error_slot;   // the error value in flight (a GC root while unwinding)
  void* jit_jmp;      // innermost jit_run's jump buffer (errors raised in JIT helpers)
  uintptr_t c_stack_limit;  // lowest safe native stack address (0 = unchecked)
};

struct Global {
  // String intern table: open addressing with linear probing, each slot
  // holding the string's hash and length next to its pointer, so a probe
  // touches the string itself only when both match. (Chains through the
  // strings cost a cache miss per string passed: new_string was 31% of
  // k_nucleotide, most of it on those loads.) At most half full.
  StringSlot* strt = nullptr;
  uint32_t strt_size = 0;   // slots, a power of two
  uint32_t strt_count = 0;  // strings interned
  // GC.
  // Every collectable object but userdata, as an array rather than a list
  // through the objects: the sweep reads it in order and prefetches the
  // objects ahead, instead of one dependent cache miss per object.
  GCObject** all = nullptr;
  size_t all_count = 0;
  size_t all_cap = 0;
  GCObject* udata = nullptr;     // every userdata (own list: the __gc scan walks only these)
  size_t total_bytes = 0;        // approximate bytes in use
  size_t gc_threshold = 0;       // collect when total_bytes exceeds this
  int gc_pause = 200;            // percent, as Lua 5.1's LUAI_GCPAUSE
  bool gc_running = false;
  uint64_t gc_cycles = 0;
  Table* mt_string = nullptr;    // metatable shared by all strings
  String* tm_names[TM_N] = {};
  // Callback when a prototype is collected (lets the JIT free its code).
  void (*on_proto_free)(void* ctx, Proto* p) = nullptr;
  void* on_proto_free_ctx = nullptr;
  uint32_t next_proto_id = 1;
  jit::Jit* jit = nullptr;       // null when the JIT is off
  std::string script_dir;        // directory of the main script (for require)
  size_t max_bytes = SIZE_MAX;   // heap limit: allocation beyond it is a "not enough memory" error
  bool sandbox = false;           // fuzzing: refuse os.exit/execute/remove/rename, io.popen, writes
  bool register_sources = false;  // publish loaded chunks through __jit_source_descriptor
  // Source blobs of registered chunks (read only by tools in other processes).
  // Slabs of their own: carved from `pool` they sat between each chunk's
  // Proto, closures and tables and spread the interpreter's working set, which
  // made calling 10,000 small functions ~20% slower (bench/debuginfo_vm_bench).
  // Written once and read only from outside: 4 KiB pages, see SmallAlloc.
  SmallAlloc source_pool{/*huge_pages=*/false};
  // Memory of strings, tables, closures, upvalues, userdata. Last, so that the fields
  // the interpreter reads (total_bytes, gc_threshold) stay together.
  SmallAlloc pool;
};

}  // namespace jitvm
