// Small-object pool for GC objects; see alloc.h for why and the rules.
#include "alloc.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>

namespace jitvm {

namespace {
// Each slab starts with a link to the previous slab; 16 bytes keep blocks 16-aligned.
constexpr size_t kSlabHeader = 16;

// A read-write (never executable) anonymous mapping of len bytes (a multiple
// of kSlabBytes) aligned to kSlabBytes, advised for transparent huge pages
// unless told not to.
void* map_aligned(size_t len, bool huge = true) {
  constexpr size_t n = SmallAlloc::kSlabBytes;
  void* m = mmap(nullptr, len + n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) throw std::bad_alloc();
  uintptr_t base = reinterpret_cast<uintptr_t>(m);
  uintptr_t aligned = (base + n - 1) & ~(uintptr_t{n} - 1);
  if (aligned > base) munmap(m, aligned - base);
  uintptr_t end = aligned + len;
  if (base + len + n > end) munmap(reinterpret_cast<void*>(end), base + len + n - end);
  void* block = reinterpret_cast<void*>(aligned);
  // Advice only: without THP it is 4 KiB pages. NOHUGEPAGE also holds where
  // THP is "always".
  madvise(block, len, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
  return block;
}

void* map_slab(bool huge) { return map_aligned(SmallAlloc::kSlabBytes, huge); }

// Blocks of kSlabBytes or more (big tables' arrays and hash parts, the
// string table) are mappings of their own, rounded up to whole huge pages:
// glibc would mmap them with 4 KiB pages, and a hash lookup in a 16 MiB
// table is then a TLB miss as well as a cache miss (k_nucleotide).
size_t huge_length(size_t n) { return (n + SmallAlloc::kSlabBytes - 1) & ~(SmallAlloc::kSlabBytes - 1); }
}  // namespace

void* SmallAlloc::carve(int c) {
  size_t sz = static_cast<size_t>(c + 1) * kGranule;
  if (static_cast<size_t>(bump_end_ - bump_) < sz) {
    // Hand the rest of the current slab to its size class (every size is a multiple
    // of 16, so the rest is too) and start a new slab.
    size_t rest = static_cast<size_t>(bump_end_ - bump_);
    if (rest >= kGranule) free(bump_, rest);
    char* slab = static_cast<char*>(map_slab(huge_pages_));
    *reinterpret_cast<void**>(slab) = slabs_;
    slabs_ = slab;
    slab_total_ += kSlabBytes;
    bump_ = slab + kSlabHeader;
    bump_end_ = slab + kSlabBytes;
    populated_ = slab;
  }
  void* p = bump_;
  bump_ += sz;
  if (!huge_pages_ && bump_ > populated_) {
    // Where the kernel lacks it (before 5.14) it fails and pages fault in as before.
    char* to = std::min(bump_end_, populated_ + ((bump_ - populated_ + kPopulateStep - 1) / kPopulateStep) * kPopulateStep);
    madvise(populated_, static_cast<size_t>(to - populated_), MADV_POPULATE_WRITE);
    populated_ = to;
  }
  return p;
}

void* SmallAlloc::big_alloc(size_t n) {
  if (n >= kSlabBytes) return map_aligned(huge_length(n));  // zero-filled by the kernel
  void* p = std::malloc(n);
  if (!p) throw std::bad_alloc();
  return p;
}

void SmallAlloc::big_free(void* p, size_t n) {
  if (n >= kSlabBytes) {
    munmap(p, huge_length(n));
    return;
  }
  std::free(p);
}

void* SmallAlloc::resize(void* p, size_t old_n, size_t new_n) {
#if defined(JITVM_ALLOC_PASSTHROUGH)
  (void)old_n;
  void* q = std::realloc(p, new_n ? new_n : 1);
  if (!q) throw std::bad_alloc();
  return q;
#else
  if (!p) return alloc(new_n);
#if !defined(JITVM_ALLOC_CHECK)
  if (old_n > kMaxSmall && new_n > kMaxSmall && old_n < kSlabBytes && new_n < kSlabBytes) {
    void* q = std::realloc(p, new_n);
    if (!q) throw std::bad_alloc();
    return q;
  }
#endif
  void* q = alloc(new_n);
  memcpy(q, p, old_n < new_n ? old_n : new_n);
  free(p, old_n);
  return q;
#endif
}

void SmallAlloc::release_all() {
  void* s = slabs_;
  while (s) {
    void* next = *static_cast<void**>(s);
    munmap(s, kSlabBytes);
    s = next;
  }
  slabs_ = nullptr;
  bump_ = bump_end_ = nullptr;
  for (FreeBlock*& f : free_) f = nullptr;
  slab_total_ = 0;
}

// -DJITVM_ALLOC_CHECK: every block is malloc'ed with a 16-byte header holding its
// size, and a free with another size aborts.
void* SmallAlloc::checked_alloc(size_t n) {
  char* p = static_cast<char*>(std::malloc(n + 16));
  if (!p) throw std::bad_alloc();
  *reinterpret_cast<size_t*>(p) = n;
  *reinterpret_cast<size_t*>(p + 8) = 0x5a11a11c;
  return p + 16;
}

void SmallAlloc::checked_free(void* p, size_t n) {
  if (!p) return;
  char* b = static_cast<char*>(p) - 16;
  size_t had = *reinterpret_cast<size_t*>(b);
  if (had != n || *reinterpret_cast<size_t*>(b + 8) != 0x5a11a11c) {
    fprintf(stderr, "jitvm: SmallAlloc: block %p of %zu bytes freed as %zu\n", p, had, n);
    abort();
  }
  *reinterpret_cast<size_t*>(b + 8) = 0;
  std::free(b);
}

}  // namespace jitvm
