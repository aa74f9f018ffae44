#include <sys/mman.h>

#include <cstdlib>
#include <new>

#include "vm_internal.h"

namespace jitvm {

void gc_free_all(State* L);

namespace {
// Frames beyond kMaxCalls are reserved for message handlers running after a
// "stack overflow" (see vm_pcall).
constexpr int kExtraCalls = kMaxCalls / 10 + 16;
constexpr int kStackExtra = 64;
}  // namespace

State* state_new() {
  Global* g = new Global();
  State* L = new State();
  L->g = g;
  void* mem = mmap(nullptr, kStackSlots * sizeof(Value), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mem == MAP_FAILED) {
    delete L;
    delete g;
    return nullptr;
  }
  L->stack = static_cast<Value*>(mem);  // zero pages are nil values (tag 0)
  L->stack_last = L->stack + kStackSlots - kStackExtra;
  L->base_ci = static_cast<CallInfo*>(calloc(kMaxCalls + kExtraCalls, sizeof(CallInfo)));
  L->end_ci = L->base_ci + kMaxCalls;
  L->ci = L->base_ci;
  L->ci->func = L->stack;
  L->stack[0] = Value::nil();
  L->base = L->ci->base = L->stack + 1;
  L->top = L->base;
  L->ci->top = L->top + kMinStackForNative;
  L->stack_hwm = L->ci->top;
  L->n_ccalls = 0;
  L->open_upval = nullptr;
  L->hook_budget = -1;
  L->error_slot = Value::nil();
  L->globals = Value::nil();
  L->registry = Value::nil();
  strings_init(g);
  g->gc_threshold = size_t{1} << 20;
  g->gc_running = true;  // no collection while the state is being built
  static const char* const kTmNames[TM_N] = {"__index", "__newindex", "__gc", "__mode", "__eq",
                                             "__add", "__sub", "__mul", "__div", "__mod",
                                             "__pow", "__unm", "__len", "__lt", "__le",
                                             "__concat", "__call"};
  for (int i = 0; i < TM_N; i++) g->tm_names[i] = new_fixed_string(L, kTmNames[i]);
  L->globals = Value::table(table_new(L, 0, 64));
  L->registry = Value::table(table_new(L, 0, 8));
  set_field(L, L->registry.as_table(), "_LOADED", Value::table(table_new(L, 0, 16)));
  g->gc_running = false;
  return L;
}

void state_close(State* L) {
  if (!L) return;
  close_upvals(L, L->stack);
  gc_free_all(L);
  L->g->pool.free(L->g->strt, size_t{L->g->strt_size} * sizeof(StringSlot));
  L->g->pool.release_all();  // every object is freed by now; this returns the slabs
  L->g->source_pool.release_all();  // so are the source blobs (unregistered with their Protos)
  munmap(L->stack, kStackSlots * sizeof(Value));
  free(L->base_ci);
  delete L->g;
  delete L;
}

void open_all_libs(State* L) {
  open_base(L);
  open_package(L);
  open_string(L);
  open_table(L);
  open_math(L);
  open_os(L);
  open_io(L);
  open_bit(L);
}

}  // namespace jitvm
