// Registration of JIT code with debuggers, with ART's packing and compression
// policy, for any JIT: jitvm's runtime uses it through a code event listener,
// other JITs through the C API in jitscope/jit_debug.h.
//
// Policy (ART's, our baseline): one mini-debug-info ELF per new function;
// every `pack_every` new functions, all live functions whose code starts in the
// same 2^range_bits (64 KiB) range are merged into one ELF (one CIE, all FDEs,
// symbols of freed code dropped); after code is freed, packed groups are
// rebuilt xz-compressed into .gnu_debugdata, except the group of the most
// recently added code (kAlways: every packed group at once). Beyond ART,
// so that long-running programs without code GC get compressed debug info
// too: kAfterFree also compresses all ranges but the one new code is going
// into (they are stable), either at every pack (compress_stable_at_pack, the
// default) or whenever the owner calls CompressNow() (jitvm: once its JIT
// has been idle for a while). Full-mode entries (DWARF lines) are never
// packed. Replacement entries are linked
// before the entries they replace are unlinked, so readers never see a gap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "debuginfo/code_event.h"
#include "debuginfo/elf_writer.h"
#include "debuginfo/jit_descriptor_writer.h"

namespace jitscope {

enum class CompressPolicy : uint8_t { kOff, kAfterFree, kAlways };

struct JitDebugOptions {
  bool full = false;   // DWARF lines; such entries are never packed
  bool pack = true;
  CompressPolicy compress = CompressPolicy::kAfterFree;
  int pack_every = 64;  // ART: pack after every 64 new entries
  int range_bits = 16;  // 64 KiB code ranges
  std::string comp_dir; // full mode: where relative source names resolve
  uint32_t xz_preset = kDefaultXzPreset;  // liblzma preset of compressed groups
  // Off: AddCode packs and compresses inline when the policy says so (a few
  // ms every pack_every functions). On: AddCode and RemoveCode only register
  // and unregister single-function entries (~2 us) and MaintenanceDue() turns
  // true; the caller runs Maintain() on a thread of its own. Either way a
  // debugger knows a function before AddCode returns.
  bool deferred = false;
  // kAfterFree's step beyond ART: true = compress the stable ranges (all but
  // the one new code goes into) at every pack. False = only CompressNow()
  // does, and the owner calls it after a code GC (ART) and whenever else it
  // likes: jitvm's listener does once the JIT has been idle for a while
  // (xz is ~2 us per function, which a compile burst should not pay).
  bool compress_stable_at_pack = true;
};

// Where a context's PreparedCodes live (jit_debug_context.cc).
class PreparedCodePool;

struct JitDebugStats {
  uint64_t entries = 0;        // registered now
  uint64_t functions = 0;      // live functions covered
  uint64_t unpacked_bytes = 0; // symfile bytes registered now, by kind
  uint64_t packed_bytes = 0;
  uint64_t compressed_bytes = 0;
  uint64_t packs = 0;          // group rebuilds so far
  uint64_t compressions = 0;
  uint64_t build_ns = 0;       // time spent building ELF files
};

class JitDebugContext {
 public:
  // Symbol-file memory: `alloc` may return null (the heap is used then); it
  // must stay mapped while registered. Both may be null (heap only).
  using Alloc = uint8_t* (*)(void* ctx, size_t bytes);
  using Free = void (*)(void* ctx, uint8_t* p, size_t bytes);

  JitDebugContext(JitDescriptorWriter* writer, const JitDebugOptions& options, Alloc alloc = nullptr,
                  Free free_fn = nullptr, void* alloc_ctx = nullptr);
  ~JitDebugContext();  // unregisters everything
  JitDebugContext(const JitDebugContext&) = delete;
  JitDebugContext& operator=(const JitDebugContext&) = delete;

  // Thread-safe. AddCode copies what it needs; RemoveCode takes the address
  // AddCode was given. Both return false for invalid input (nothing changes).
  bool AddCode(const CodeInfo& code);
  bool RemoveCode(uint64_t address);
  // Every code is going away: unregisters all entries now (one Unregister per
  // group, no repack) and forgets every function.
  void RemoveAllCode();
  // Applies the compression policy now (e.g. after a code GC) and drops the
  // symbols of freed code from packed groups. Builds without the lock, like
  // Maintain: a range that changed meanwhile stays dirty for the next pack
  // (deferred mode: MaintenanceDue() turns true).
  void CompressNow();
  // Deferred mode: whether a pack is due, and doing it. Maintain builds the
  // new ELF files without holding the context's lock (AddCode and RemoveCode
  // are not held up by xz); a range that changed meanwhile is left for the
  // next run.
  bool MaintenanceDue();
  void Maintain();
  // Whether CompressNow() would compress anything (a packed group of a range
  // other than the newest, or any with kAlways).
  bool CompressionPending();
  void SetOptions(const JitDebugOptions& options);
  // Stops using the allocator (its memory is going away); registered files stay.
  void DetachAllocator();
  JitDebugStats stats();

 private:
  struct Group {
    jit_code_entry* entry = nullptr;
    uint8_t* symfile = nullptr;
    size_t size = 0;        // of the ELF file
    size_t block_size = 0;  // of its memory (from_alloc: what alloc_ was asked for)
    bool from_alloc = false;
    enum Kind { kSingle, kPacked, kCompressed } kind = kSingle;
    uint64_t range = 0;
    size_t functions = 0;  // live functions it covered when made
  };

  // A live function as packing needs it: immutable once made (its CFA program
  // encoded at AddCode, never again), so a plan shares it instead of copying.
  using Code = std::shared_ptr<const PreparedCode>;

  struct Live {
    uint64_t address = 0;
    Code code;
    Group* covering = nullptr;  // the entry a debugger finds it in now
  };

  // Everything about one 2^range_bits code range. Why not maps keyed by
  // address: at 20,000 functions the four ordered maps this replaced (live,
  // covering, generation, by range) cost ~2% of a VM's samples, nearly all
  // cache misses walking their trees between two compiles. New code mostly
  // lands at the end of its range, so `codes` grows at its back.
  struct Range {
    uint64_t generation = 0;   // changes so far (a plan made before is stale)
    std::vector<Live> codes;   // sorted by address
    std::vector<Group*> groups;
    size_t singles = 0;        // groups by kind
    size_t packed = 0;
    std::vector<Live>::iterator LowerBound(uint64_t address);  // first code at or after it
    Live* Find(uint64_t address);
  };

  // One range to rebuild: planned and applied under the lock, built outside.
  struct Rebuild {
    uint64_t range = 0;
    uint64_t generation = 0;
    Group::Kind kind = Group::kPacked;
    std::vector<Code> codes;
    std::vector<uint8_t> bytes;
  };
  Group* Register(const std::vector<uint8_t>& bytes, Group::Kind kind, Range& range, uint64_t range_index,
                  size_t functions);
  // covered = false: no live function names g as its covering any more
  // (Apply has just moved them all to the new group): the walk is skipped.
  void Unregister(Group* g, bool covered = true);
  Range& RangeOf(uint64_t range_index);
  // Single-function files are made and dropped once per function; their
  // blocks are kept for the next ones instead of going through the caller's
  // allocator both ways (a locked range allocator in jitvm: ~0.8 us a pair).
  uint8_t* TakeSpare(size_t block_size);
  bool KeepSpare(uint8_t* block, size_t block_size);
  void ReleaseSpares();
  // The pack every pack_every new functions (with_singles) or the compression
  // after code GC (without): which ranges to rebuild, and as what.
  std::vector<Rebuild> Plan(bool with_singles);
  void Build(std::vector<Rebuild>& plan, const ElfWriterOptions& opts);
  void Apply(std::vector<Rebuild>& plan);
  ElfWriterOptions WriterOptions() const;  // under mu_
  // Under mu_: whether a packed group of this range is compressed by
  // CompressNow (all but the newest range; every one with kAlways).
  bool StableRange(uint64_t range_index) const;
  std::vector<Group*> AllGroups() const;   // under mu_

  // Unused single-function blocks of alloc_ by size class (block_size /
  // kSpareGranule), each class a stack. Not lists linked through the blocks:
  // reading a spare's link was a cold miss on the compiler thread, and the
  // block itself is written with non-temporal stores (it is never read here).
  std::vector<std::vector<uint8_t*>> spares_;
  size_t spare_count_ = 0;
  JitDescriptorWriter* writer_;
  JitDebugOptions options_;
  Alloc alloc_;
  Free free_;
  void* alloc_ctx_;
  // Declared before ranges_ so that it outlives every Code they hold.
  std::unique_ptr<PreparedCodePool> pool_;
  std::mutex mu_;
  // Ranges are never erased (a stale plan must find its generation), and
  // there are at most code cache size / 64 KiB of them. References to the
  // elements of an unordered_map survive rehashing.
  std::unordered_map<uint64_t, Range> ranges_;
  Range* last_ = nullptr;  // of last_range_, the range new code went into
  uint64_t last_range_ = 0;
  std::set<uint64_t> with_singles_;  // ranges holding single-function entries
  std::set<uint64_t> with_packed_;   // ranges holding uncompressed packed groups
  std::set<uint64_t> dirty_ranges_;  // packed groups still holding symbols of freed code
  size_t group_count_ = 0;
  size_t live_count_ = 0;
  int new_since_pack_ = 0;
  bool pack_due_ = false;
  JitDebugStats stats_;
  // stats_.build_ns in stats_ticks() units, and when the context was made
  // in both clocks (the rate between them converts the sum).
  uint64_t build_ticks_ = 0;
  uint64_t created_ticks_ = 0;
  uint64_t created_ns_ = 0;
};

}  // namespace jitscope
