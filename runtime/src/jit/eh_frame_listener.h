// Registers compiled code's CFI with the C++ runtime (libgcc's
// __register_frame of an .eh_frame table), so in-process unwinders understand
// JIT frames: backtrace(3) walks through them and a C++ exception thrown in
// a native function called from compiled Lua code propagates through the
// compiled frames to its handler.
//
// One table per 64 KiB range of code, not one per function: Debian 12's
// libgcc keeps registered objects in linked lists, so __deregister_frame and
// every frame lookup during any C++ exception (the VM throws one per Lua
// error) are linear in the number of objects. Grouping keeps that number at
// code size / 64 KiB (plus at most 16 one-function tables, see Group). Each
// function's CFA program is encoded once; a group's table is rebuilt from
// those (at its new address: the encoding is pc-relative) when its pending
// one-function tables are folded in, when code is loaded into a range that
// lost code, and after code GC for ranges that lost code. The new table is
// registered before the old one is deregistered, so another thread's unwind
// never finds a gap. Between a free
// and the next rebuild a group still describes the freed code: harmless, as
// freed code never runs (it is filled with int3) and a load into the range
// rebuilds the table before the new code is published.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <vector>

#include "code_cache.h"
#include "debuginfo/elf_writer.h"
#include "runtime/jit_event_listener.h"

namespace jitvm {
namespace jit {

class EhFrameListener : public JitEventListener {
 public:
  static constexpr uint64_t kGroupBytes = 64 * 1024;

  // The tables live in the JIT data region: its mapping is near the code, as
  // the pc-relative (sdata4) encoding needs.
  explicit EhFrameListener(CodeCache* cache) : cache_(cache) {}
  ~EhFrameListener() override;
  void OnCodeLoaded(const jitscope::CodeInfo& code) override;
  void OnCodeFreed(const jitscope::CodeInfo& code) override;
  void OnCodeGcDone() override;
  // Functions with registered CFI, and registered tables (for tests).
  size_t registered();
  size_t tables();

 private:
  struct Table {
    uint8_t* buf = nullptr;
    size_t size = 0;
  };
  struct Group {
    std::map<uint64_t, jitscope::EhFrameTableEntry> functions;  // by code address
    uint8_t* buf = nullptr;                                    // registered table
    size_t size = 0;
    // Functions loaded since the last rebuild, each registered as its own
    // one-FDE table (also in `functions`): rebuilding the whole range at
    // every load wrote O(n^2) FDEs per range (3.4% of a 10,000-function
    // run). At kMaxPending, or when loads move to another range, or after
    // code GC, the range is rebuilt and these are deregistered.
    std::vector<Table> pending;
  };
  static constexpr size_t kMaxPending = 16;
  void Rebuild(uint64_t base, Group& group);  // mu_ held
  Table WriteTable(const std::vector<const jitscope::EhFrameTableEntry*>& entries);  // mu_ held

  CodeCache* cache_;
  std::mutex mu_;
  std::map<uint64_t, Group> groups_;  // by 64 KiB range base
  std::set<uint64_t> stale_;          // groups that lost code since their last rebuild
  uint64_t last_base_ = 0;            // the range of the last load (its group may have pending tables)
  bool have_last_ = false;
};

}  // namespace jit
}  // namespace jitvm
