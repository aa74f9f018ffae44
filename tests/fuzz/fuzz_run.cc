// libFuzzer target: compile and run arbitrary scripts with every library open,
// bounded by an instruction budget (back edges and calls) and a heap limit, so
// runaway loops and allocations end as Lua errors instead of fuzzer timeouts.
#include <cstddef>
#include <cstdint>
#include <cstdio>

#include "api.h"

namespace {
constexpr int kInstructionBudget = 200000;          // back edges + calls per input
constexpr size_t kHeapLimit = size_t{64} << 20;     // 64 MiB of Lua heap per input
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Scripts may print; keep the fuzzer's output readable.
  if (!freopen("/dev/null", "w", stdout)) return 0;
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  jitvm::State* L = jitvm::state_new();
  if (!L) return 0;
  L->g->max_bytes = kHeapLimit;
  L->g->sandbox = true;  // os.exit/os.execute/io.popen/file writes refused
  jitvm::open_all_libs(L);
  L->hook_budget = kInstructionBudget;
  if (jitvm::load_buffer(L, reinterpret_cast<const char*>(data), size, "=fuzz") == 0) {
    jitvm::Value* func = L->top - 1;
    jitvm::vm_pcall(L, func, 0, nullptr);
  }
  jitvm::state_close(L);
  return 0;
}
