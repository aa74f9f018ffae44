#include "debuginfo/jit_debug_context.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <new>

#include <sys/mman.h>

#include "debuginfo/elf_writer.h"

#if defined(__SANITIZE_ADDRESS__)
#define JITSCOPE_POOL_PASSTHROUGH 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define JITSCOPE_POOL_PASSTHROUGH 1
#endif
#endif

#if defined(__x86_64__)
#include <immintrin.h>
#include <x86intrin.h>
#endif

namespace jitscope {

namespace {
// Spare single-function blocks come in sizes rounded up to this, so that
// files whose names differ by a few bytes share blocks.
constexpr size_t kSpareGranule = 64;
// Bounds the spares: about the singles alive between two packs of a few
// ranges (pack_every 64) with room for bursts; beyond it blocks go back.
constexpr size_t kMaxSpares = 512;
// Single-function files larger than this (very long names) are not kept.
constexpr size_t kMaxSpareBlock = 4096;

size_t RoundUp(size_t n, size_t granule) { return (n + granule - 1) / granule * granule; }

// Copies a file into a block nobody on this side reads again (debuggers read
// it from memory, much later): with non-temporal stores on x86-64, so the
// block's lines are not fetched first only to be overwritten. The blocks are
// cold (a spare was last written a pack ago, a new one never), and those
// fetches were most of copying a single-function file on the compiler
// thread. The sfence orders the stores before the caller's release stores
// that publish the file.
void CopyToColdMemory(uint8_t* dst, const uint8_t* src, size_t n) {
#if defined(__x86_64__)
  size_t head = std::min(n, (16 - reinterpret_cast<uintptr_t>(dst) % 16) % 16);
  std::memcpy(dst, src, head);
  size_t i = head;
  for (; i + 16 <= n; i += 16)
    _mm_stream_si128(reinterpret_cast<__m128i*>(dst + i), _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i)));
  std::memcpy(dst + i, src + i, n - i);
  _mm_sfence();
#else
  std::memcpy(dst, src, n);
#endif
}

uint64_t now_ns() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

// The build-time statistic's clock, read twice per compiled function: the
// TSC on x86-64 (~12 ns here), converted to nanoseconds in stats() by the
// rate measured between the context's creation and then. clock_gettime's
// vDSO was ~35 ns warm and a few cache misses cold on the compiler thread,
// 2-3% of registration. Only ever used for durations, never for the GDB JIT
// timestamps (those are CLOCK_MONOTONIC, DESIGN.md).
uint64_t stats_ticks() {
#if defined(__x86_64__)
  return __rdtsc();
#else
  return now_ns();
#endif
}
}  // namespace

// Every compiled function's PreparedCode (with its shared_ptr control block,
// one allocation through allocate_shared) comes from here instead of the
// compiler thread's malloc arena: that arena grows by mprotect and faults in
// its pages one at a time, and the make_shared of each function was ~0.2% of
// all samples of a 10,000-function jitvm run plus ~0.1% in grow_heap's
// mprotect (docs/performance.md). Slabs of kSlabBytes are faulted in whole
// with one MADV_POPULATE_WRITE; all blocks have the size of the first one
// asked for (one type is ever allocated), larger requests go to operator new.
// Freed blocks are reused; slabs go back when the context (which owns the
// pool and outlives every Code) is destroyed. Thread-safe: Codes are dropped
// on whichever thread releases the last plan or Live holding them.
// Under AddressSanitizer every block is operator new's, so that a stale
// PreparedCode is still reported.
class PreparedCodePool {
 public:
  PreparedCodePool() = default;
  PreparedCodePool(const PreparedCodePool&) = delete;
  PreparedCodePool& operator=(const PreparedCodePool&) = delete;
  ~PreparedCodePool() {
    for (void* s : slabs_) munmap(s, kSlabBytes);
  }

  void* Allocate(size_t n) {
#if !defined(JITSCOPE_POOL_PASSTHROUGH)
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (block_ == 0) block_ = RoundUp(n, 16);
      if (n <= block_) {
        if (FreeBlock* f = free_) {
          free_ = f->next;
          return f;
        }
        if (static_cast<size_t>(end_ - bump_) < block_) NewSlab();  // throws std::bad_alloc
        void* p = bump_;
        bump_ += block_;
        return p;
      }
    }
#endif
    return ::operator new(n);
  }

  void Deallocate(void* p, size_t n) {
#if !defined(JITSCOPE_POOL_PASSTHROUGH)
    std::lock_guard<std::mutex> lock(mu_);
    if (n <= block_) {
      FreeBlock* f = static_cast<FreeBlock*>(p);
      f->next = free_;
      free_ = f;
      return;
    }
#endif
    ::operator delete(p);
  }

 private:
  static constexpr size_t kSlabBytes = 64 * 1024;
  struct FreeBlock {
    FreeBlock* next;
  };
  void NewSlab() {
    slabs_.reserve(slabs_.size() + 1);  // may throw before anything is mapped
    void* m = mmap(nullptr, kSlabBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) throw std::bad_alloc();
#if defined(MADV_POPULATE_WRITE)
    madvise(m, kSlabBytes, MADV_POPULATE_WRITE);  // before 5.14 it fails: pages fault in as they fill
#endif
    slabs_.push_back(m);
    bump_ = static_cast<char*>(m);
    end_ = bump_ + kSlabBytes;
  }

  std::mutex mu_;
  size_t block_ = 0;
  FreeBlock* free_ = nullptr;
  char* bump_ = nullptr;
  char* end_ = nullptr;
  std::vector<void*> slabs_;
};

namespace {
// allocate_shared's allocator: the object and its control block in one block of the pool.
template <class T>
struct PoolAllocator {
  using value_type = T;
  PreparedCodePool* pool;
  explicit PoolAllocator(PreparedCodePool* p) : pool(p) {}
  template <class U>
  PoolAllocator(const PoolAllocator<U>& other) : pool(other.pool) {}  // NOLINT: rebinding must be implicit
  T* allocate(size_t n) { return static_cast<T*>(pool->Allocate(n * sizeof(T))); }
  void deallocate(T* p, size_t n) { pool->Deallocate(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const PoolAllocator<U>& other) const { return pool == other.pool; }
  template <class U>
  bool operator!=(const PoolAllocator<U>& other) const { return pool != other.pool; }
};
}  // namespace

JitDebugContext::JitDebugContext(JitDescriptorWriter* writer, const JitDebugOptions& options, Alloc alloc,
                                 Free free_fn, void* alloc_ctx)
    : spares_(kMaxSpareBlock / kSpareGranule + 1),
      writer_(writer),
      options_(options),
      alloc_(alloc),
      free_(free_fn),
      alloc_ctx_(alloc_ctx),
      pool_(std::make_unique<PreparedCodePool>()),
      created_ticks_(stats_ticks()),
      created_ns_(now_ns()) {}

JitDebugContext::~JitDebugContext() {
  std::lock_guard<std::mutex> lock(mu_);
  for (Group* g : AllGroups()) Unregister(g);
  ReleaseSpares();
  // Small blocks first, then the large ones: freed range by range (a small
  // groups vector, then a ~2 KiB codes vector), every large free made glibc
  // consolidate its fastbins again (malloc_consolidate was ~0.6% of a
  // 20,000-function jitvm run, all at exit). This way it does so once.
  for (auto& [index, range] : ranges_) std::vector<Group*>().swap(range.groups);
  for (auto& [index, range] : ranges_) std::vector<Live>().swap(range.codes);
}

std::vector<JitDebugContext::Group*> JitDebugContext::AllGroups() const {
  std::vector<Group*> all;
  all.reserve(group_count_);
  for (const auto& [index, range] : ranges_) all.insert(all.end(), range.groups.begin(), range.groups.end());
  return all;
}

std::vector<JitDebugContext::Live>::iterator JitDebugContext::Range::LowerBound(uint64_t address) {
  return std::lower_bound(codes.begin(), codes.end(), address,
                          [](const Live& l, uint64_t a) { return l.address < a; });
}

JitDebugContext::Live* JitDebugContext::Range::Find(uint64_t address) {
  auto it = LowerBound(address);
  return it != codes.end() && it->address == address ? &*it : nullptr;
}

bool JitDebugContext::StableRange(uint64_t range_index) const {
  return options_.compress == CompressPolicy::kAlways || range_index != last_range_;
}

JitDebugContext::Range& JitDebugContext::RangeOf(uint64_t range_index) {
  if (last_ && range_index == last_range_) return *last_;
  return ranges_[range_index];
}

uint8_t* JitDebugContext::TakeSpare(size_t block_size) {
  size_t c = block_size / kSpareGranule;
  if (c >= spares_.size() || spares_[c].empty()) return nullptr;
  uint8_t* block = spares_[c].back();
  spares_[c].pop_back();
  spare_count_--;
  return block;
}

bool JitDebugContext::KeepSpare(uint8_t* block, size_t block_size) {
  if (block_size > kMaxSpareBlock || block_size % kSpareGranule != 0) return false;
  // Never throws (Unregister calls it after the entry is gone, and must
  // finish): a class that cannot grow keeps nothing more.
  size_t c = block_size / kSpareGranule;
  std::vector<uint8_t*>& list = spares_[c];
  if (list.size() == list.capacity()) {
    try {
      list.reserve(std::max<size_t>(16, 2 * list.capacity()));
    } catch (const std::bad_alloc&) {
      return false;
    }
  }
  if (spare_count_ >= kMaxSpares) {
    // Full: a block of another size goes back instead. Names grow as a
    // program runs (gen9.lua, then gen10000.lua), so files move up a size
    // class; refusing new spares would leave the pool full of the old size
    // and send every later file to the allocator.
    size_t other = 0;
    while (other < spares_.size() && (other == c || spares_[other].empty())) other++;
    if (other == spares_.size() || !free_) return false;
    uint8_t* victim = TakeSpare(other * kSpareGranule);
    free_(alloc_ctx_, victim, other * kSpareGranule);
  }
  list.push_back(block);
  spare_count_++;
  return true;
}

void JitDebugContext::ReleaseSpares() {
  for (size_t c = 0; c < spares_.size(); c++) {
    if (free_)
      for (uint8_t* block : spares_[c]) free_(alloc_ctx_, block, c * kSpareGranule);
    spares_[c].clear();
  }
  spare_count_ = 0;
}

void JitDebugContext::DetachAllocator() {
  std::lock_guard<std::mutex> lock(mu_);
  // Files already in the allocator's memory stay registered until unregistered,
  // but are never handed back to it.
  for (Group* g : AllGroups())
    if (g->from_alloc) g->from_alloc = false, g->symfile = nullptr;
  // The allocator's memory: never touched again (not even to walk the lists).
  for (std::vector<uint8_t*>& list : spares_) list.clear();
  spare_count_ = 0;
  alloc_ = nullptr;
  free_ = nullptr;
}

void JitDebugContext::SetOptions(const JitDebugOptions& options) {
  std::lock_guard<std::mutex> lock(mu_);
  options_ = options;
}

ElfWriterOptions JitDebugContext::WriterOptions() const {
  ElfWriterOptions opts;
  opts.full = options_.full;
  opts.comp_dir = options_.comp_dir;
  opts.xz_preset = options_.xz_preset;
  return opts;
}

JitDebugContext::Group* JitDebugContext::Register(const std::vector<uint8_t>& bytes, Group::Kind kind, Range& range,
                                                  uint64_t range_index, size_t functions) {
  if (bytes.empty()) return nullptr;
  auto* g = new Group();
  g->kind = kind;
  g->range = range_index;
  g->functions = functions;
  g->size = bytes.size();
  g->block_size = kind == Group::kSingle ? RoundUp(bytes.size(), kSpareGranule) : bytes.size();
  if (alloc_) {
    g->symfile = kind == Group::kSingle ? TakeSpare(g->block_size) : nullptr;
    if (!g->symfile) g->symfile = alloc_(alloc_ctx_, g->block_size);
  }
  g->from_alloc = g->symfile != nullptr;
  if (!g->symfile) g->symfile = static_cast<uint8_t*>(malloc(bytes.size()));
  if (!g->symfile) {
    delete g;
    return nullptr;
  }
  CopyToColdMemory(g->symfile, bytes.data(), bytes.size());
  g->entry = writer_->Register(g->symfile, g->size);
  range.groups.push_back(g);
  group_count_++;
  switch (kind) {
    case Group::kSingle:
      stats_.unpacked_bytes += g->size;
      if (range.singles++ == 0) with_singles_.insert(range_index);
      break;
    case Group::kPacked:
      stats_.packed_bytes += g->size;
      if (range.packed++ == 0) with_packed_.insert(range_index);
      break;
    case Group::kCompressed: stats_.compressed_bytes += g->size; break;
  }
  return g;
}

void JitDebugContext::Unregister(Group* g, bool covered) {
  if (g->entry) writer_->Unregister(g->entry);
  Range& range = RangeOf(g->range);
  switch (g->kind) {
    case Group::kSingle:
      stats_.unpacked_bytes -= g->size;
      if (--range.singles == 0) with_singles_.erase(g->range);
      break;
    case Group::kPacked:
      stats_.packed_bytes -= g->size;
      if (--range.packed == 0) with_packed_.erase(g->range);
      break;
    case Group::kCompressed: stats_.compressed_bytes -= g->size; break;
  }
  // Only after the entry is unlinked and invalid may its file's memory be reused.
  if (g->from_alloc) {
    bool kept = g->kind == Group::kSingle && KeepSpare(g->symfile, g->block_size);
    if (!kept && free_) free_(alloc_ctx_, g->symfile, g->block_size);
  } else {
    free(g->symfile);
  }
  if (covered)
    for (Live& l : range.codes)
      if (l.covering == g) l.covering = nullptr;
  auto it = std::find(range.groups.begin(), range.groups.end(), g);
  if (it != range.groups.end()) range.groups.erase(it);
  group_count_--;
  delete g;
}

bool JitDebugContext::AddCode(const CodeInfo& code) {
  if (code.size == 0) return false;
  uint64_t t0 = stats_ticks();
  ElfWriterOptions opts;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto known = ranges_.find(code.address >> options_.range_bits);
    if (known != ranges_.end() && known->second.Find(code.address)) return false;
    opts = WriterOptions();
  }
  // Validation, the CFA program and the function's own file are built without
  // the lock: the worker's Apply (which holds it) then delays this compiler
  // thread only for its registrations, never for an ELF write.
  auto prepared = std::allocate_shared<PreparedCode>(PoolAllocator<PreparedCode>(pool_.get()));
  if (!PrepareCode(code, opts, prepared.get())) return false;
  // The single-function file is built here, without the lock, in a buffer
  // of this thread's that keeps its capacity (no allocation per function),
  // and copied into its block by Register.
  thread_local ElfImage tls_single;
  if (opts.full) tls_single = WriteMiniDebugInfo({&code}, opts);
  else WritePreparedMiniDebugInfoInto(*prepared, opts, &tls_single);

  std::lock_guard<std::mutex> lock(mu_);
  uint64_t range_index = code.address >> options_.range_bits;
  Range& range = RangeOf(range_index);
  if (range.codes.capacity() == 0) range.codes.reserve(64);  // about what a range holds
  auto at = range.LowerBound(code.address);
  if (at != range.codes.end() && at->address == code.address) return false;  // added meanwhile by another thread
  size_t index = static_cast<size_t>(at - range.codes.begin());
  range.codes.insert(at, Live{code.address, std::move(prepared), nullptr});
  live_count_++;
  last_range_ = range_index;
  last_ = &range;
  range.generation++;
  Group* g = Register(tls_single, Group::kSingle, range, range_index, 1);
  if (g) range.codes[index].covering = g;
  if (!options_.full && options_.pack && ++new_since_pack_ >= options_.pack_every) {
    new_since_pack_ = 0;
    if (options_.deferred) {
      pack_due_ = true;
    } else {
      std::vector<Rebuild> plan = Plan(/*with_singles=*/true);
      Build(plan, WriterOptions());
      Apply(plan);
    }
  }
  build_ticks_ += stats_ticks() - t0;
  return true;
}

// Packing merges every range holding single-function entries or symbols of
// freed code. Compression (after free, or kAlways) also rebuilds packed groups
// as compressed ones. ART compresses only after a code GC and leaves the
// group of the newest code; beyond ART, kAfterFree compresses all ranges but
// the one new code is going into (they are stable) at every CompressNow and,
// with compress_stable_at_pack, at every pack too, so long-running programs
// without code GC get compressed debug info too.
std::vector<JitDebugContext::Rebuild> JitDebugContext::Plan(bool with_singles) {
  std::set<uint64_t> ranges = dirty_ranges_;
  dirty_ranges_.clear();
  bool compress = !options_.full && options_.compress != CompressPolicy::kOff;
  bool always = options_.compress == CompressPolicy::kAlways;
  if (with_singles) ranges.insert(with_singles_.begin(), with_singles_.end());
  // A pack compresses the stable ranges only if told to; CompressNow always.
  bool stable = compress && (!with_singles || options_.compress_stable_at_pack || always);
  if (stable)
    for (uint64_t range : with_packed_)
      if (StableRange(range)) ranges.insert(range);
  std::vector<Rebuild> plan;
  plan.reserve(ranges.size());
  for (uint64_t range_index : ranges) {
    Range& range = RangeOf(range_index);
    Rebuild r;
    r.range = range_index;
    r.generation = range.generation;
    bool compressed = stable && StableRange(range_index);
    r.kind = compressed ? Group::kCompressed : Group::kPacked;
    // Shared, not copied: the lock is held here, and a code freed meanwhile
    // stays alive for the build (which is then discarded by Apply anyway).
    r.codes.reserve(range.codes.size());
    for (const Live& l : range.codes) r.codes.push_back(l.code);
    plan.push_back(std::move(r));
  }
  return plan;
}

void JitDebugContext::Build(std::vector<Rebuild>& plan, const ElfWriterOptions& opts_in) {
  ElfWriterOptions opts = opts_in;
  opts.full = false;  // packed groups keep only symbols and CFI
  std::vector<const PreparedCode*> codes;
  for (Rebuild& r : plan) {
    if (r.codes.empty()) continue;
    codes.clear();
    for (const Code& c : r.codes) codes.push_back(c.get());
    r.bytes = r.kind == Group::kCompressed ? WritePreparedCompressedDebugInfo(codes, opts)
                                           : WritePreparedMiniDebugInfo(codes, opts);
  }
}

// Rebuilds each range's entries as one ELF: the new one is linked before the
// old ones are unlinked, so readers never see a gap in coverage.
void JitDebugContext::Apply(std::vector<Rebuild>& plan) {
  std::vector<Group*> old;
  for (Rebuild& r : plan) {
    Range& range = RangeOf(r.range);
    if (range.generation != r.generation) {
      // Code came or went while the file was built: again (deferred mode
      // runs Maintain until nothing is due). New code left a single entry;
      // freed code is marked dirty.
      dirty_ranges_.insert(r.range);
      if (options_.deferred && options_.pack && !options_.full) pack_due_ = true;
      continue;
    }
    old = range.groups;
    if (r.codes.empty()) {
      for (Group* g : old) Unregister(g);
      continue;
    }
    // Same generation: range.codes are the plan's codes.
    Group* g = Register(r.bytes, r.kind, range, r.range, r.codes.size());
    if (!g) continue;
    for (Live& l : range.codes) l.covering = g;
    for (Group* o : old) Unregister(o, /*covered=*/false);
    stats_.packs++;
    if (r.kind == Group::kCompressed) stats_.compressions++;
  }
}

void JitDebugContext::CompressNow() {
  std::vector<Rebuild> plan;
  ElfWriterOptions opts;
  {
    std::lock_guard<std::mutex> lock(mu_);
    plan = Plan(/*with_singles=*/false);
    opts = WriterOptions();
  }
  uint64_t t0 = stats_ticks();
  // xz without the lock, as in Maintain: after a code GC this compresses every
  // dirty range, and the compiler thread's AddCode must not wait for that.
  Build(plan, opts);
  std::lock_guard<std::mutex> lock(mu_);
  Apply(plan);
  build_ticks_ += stats_ticks() - t0;
}

bool JitDebugContext::MaintenanceDue() {
  std::lock_guard<std::mutex> lock(mu_);
  return pack_due_;
}

bool JitDebugContext::CompressionPending() {
  std::lock_guard<std::mutex> lock(mu_);
  if (options_.full || options_.compress == CompressPolicy::kOff) return false;
  for (uint64_t range : with_packed_)
    if (StableRange(range)) return true;
  return false;
}

void JitDebugContext::Maintain() {
  std::vector<Rebuild> plan;
  ElfWriterOptions opts;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!pack_due_) return;
    pack_due_ = false;
    plan = Plan(/*with_singles=*/true);
    opts = WriterOptions();
  }
  uint64_t t0 = stats_ticks();
  Build(plan, opts);  // the expensive part (ELF and xz), without the lock
  std::lock_guard<std::mutex> lock(mu_);
  Apply(plan);
  build_ticks_ += stats_ticks() - t0;
}

bool JitDebugContext::RemoveCode(uint64_t address) {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t range_index = address >> options_.range_bits;
  auto known = ranges_.find(range_index);
  if (known == ranges_.end()) return false;
  Range& range = known->second;
  Live* live = range.Find(address);
  if (!live) return false;
  uint64_t t0 = stats_ticks();
  Group* g = live->covering;
  range.codes.erase(range.codes.begin() + (live - range.codes.data()));
  live_count_--;
  range.generation++;
  if (g) {
    if (g->functions <= 1) {
      Unregister(g);  // a single-function entry goes at once
    } else {
      // A packed group keeps the freed symbol until the next repack (ART's
      // policy): rebuilding a whole group for every freed function would cost
      // one ELF (or xz) build per free during a code GC.
      dirty_ranges_.insert(range_index);
    }
  }
  build_ticks_ += stats_ticks() - t0;
  return true;
}

void JitDebugContext::RemoveAllCode() {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t t0 = stats_ticks();
  for (auto& [index, range] : ranges_) {
    live_count_ -= range.codes.size();
    range.codes.clear();  // first: Unregister then has no coverings to clear
    range.generation++;   // a plan built meanwhile is stale
    while (!range.groups.empty()) Unregister(range.groups.back());
  }
  dirty_ranges_.clear();
  new_since_pack_ = 0;
  pack_due_ = false;
  build_ticks_ += stats_ticks() - t0;
}

JitDebugStats JitDebugContext::stats() {
  std::lock_guard<std::mutex> lock(mu_);
  JitDebugStats s = stats_;
  uint64_t ticks = stats_ticks(), ns = now_ns();
  if (ticks > created_ticks_ && ns > created_ns_)
    s.build_ns = static_cast<uint64_t>(static_cast<long double>(build_ticks_) * (ns - created_ns_) /
                                       (ticks - created_ticks_));
  s.entries = group_count_;
  s.functions = live_count_;
  return s;
}

}  // namespace jitscope
