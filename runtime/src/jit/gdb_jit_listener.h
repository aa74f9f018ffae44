// Registers compiled code with debuggers through the GDB JIT interface
// (debuginfo's writer of __jit_debug_descriptor), following ART's policy:
// one mini-debug-info ELF per new function; every kPackEvery new functions,
// all live functions whose code starts in the same 64 KiB range are merged
// into one ELF (one CIE, all FDEs, symbols of freed code dropped); after code
// is freed, packed groups are rebuilt xz-compressed, except the group of the
// most recently loaded code. Full mode (DWARF lines) entries are never packed.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <vector>

#include "code_cache.h"
#include "debuginfo/code_event.h"
#include "jitscope/jit_debug.h"
#include "runtime/jit_event_listener.h"

namespace jitvm {
namespace jit {

enum class DebugInfoMode { kNone, kMini, kFull };

struct DebugInfoStats {
  uint64_t entries = 0;             // registered now
  uint64_t functions = 0;           // live functions covered
  uint64_t unpacked_bytes = 0;      // symfile bytes by kind, registered now
  uint64_t packed_bytes = 0;
  uint64_t compressed_bytes = 0;
  uint64_t packs = 0;               // pack operations so far
  uint64_t compressions = 0;
};

class GdbJitListener : public JitEventListener {
 public:
  static constexpr int kPackEvery = 64;          // ART: pack after every 64 new entries
  static constexpr int kRangeBits = 16;          // 64 KiB code ranges

  GdbJitListener(DebugInfoMode mode, CodeCache* cache);
  ~GdbJitListener() override;

  void OnCodeLoaded(const jitscope::CodeInfo& code) override;
  void OnCodeFreed(const jitscope::CodeInfo& code) override;
  DebugInfoStats stats();

 private:
  struct Group {
    jit_code_entry* entry = nullptr;
    uint8_t* symfile = nullptr;
    size_t size = 0;
    bool in_data_region = false;
    enum Kind { kSingle, kPacked, kCompressed } kind = kSingle;
    uint64_t range = 0;
    std::set<uint64_t> codes;  // start addresses covered
  };

  Group* Register(std::vector<uint8_t> bytes, Group::Kind kind, uint64_t range,
                  const std::vector<const jitscope::CodeInfo*>& codes);
  void Unregister(Group* g);
  void PackRanges(const std::set<uint64_t>& ranges, bool compress);
  void CompressAfterFree();

  DebugInfoMode mode_;
  CodeCache* cache_;
  std::mutex mu_;
  std::map<uint64_t, jitscope::CodeInfo> live_;   // by code address
  std::map<uint64_t, Group*> covering_;           // code address -> its group
  std::set<Group*> groups_;
  int new_since_pack_ = 0;
  bool freed_since_compress_ = false;
  uint64_t last_range_ = 0;
  DebugInfoStats stats_;
};

}  // namespace jit
}  // namespace jitvm
