// Small-object pool for GC objects (strings, tables and their parts, closures,
// upvalues, userdata).
//
// Why: in allocation-heavy programs (binary_trees, havlak, fixpoint_fact,
// storage) glibc malloc/calloc/free/realloc took 30-50% of the run time
// (_int_malloc, _int_free, malloc_consolidate...). Lua objects are small, of a
// few recurring sizes, and are freed in bulk by the sweep, which is what
// segregated free lists do well: an allocation pops a free list (or bumps a
// pointer in the current slab), a free pushes it back, no headers, no
// coalescing, no locks.
//
// Rules:
// - Single-threaded: only the VM thread allocates or frees Lua objects (the JIT
//   compiler thread only reads Protos, which are not pooled). One pool per
//   Global.
// - Sized free: the caller passes the same size it allocated with (the size is
//   known from the object: String len, Table asize/hsize, Closure nupvalues...),
//   so blocks carry no header. Sizes above kMaxSmall go to malloc/free, and
//   from kSlabBytes on to mappings of their own advised for huge pages.
// - Memory of freed small blocks stays in its size class until the state is
//   closed (release_all); it is not returned to the OS or to other classes.
// - Under AddressSanitizer everything goes straight to malloc/free so that
//   use-after-free and overflows of Lua objects are still caught.
// - Building with -DJITVM_ALLOC_CHECK adds a header to every block and aborts
//   when a free's size differs from the allocation's (a test aid).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define JITVM_ALLOC_PASSTHROUGH 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define JITVM_ALLOC_PASSTHROUGH 1
#endif
#endif

namespace jitvm {

class SmallAlloc {
 public:
  static constexpr size_t kGranule = 16;   // size classes: 16, 32, ..., kMaxSmall
  static constexpr size_t kMaxSmall = 512;
  static constexpr int kClasses = static_cast<int>(kMaxSmall / kGranule);
  // 2 MiB, aligned: one transparent huge page each (madvise), so filling a
  // slab takes one page fault instead of 512 (page faults cost ~8% of havlak
  // and k_nucleotide with 256 KiB malloc'ed slabs on this VM) and sweeping
  // the heap misses the TLB far less.
  static constexpr size_t kSlabBytes = size_t{2} << 20;

  SmallAlloc() = default;
  // huge_pages = false: slabs are plain 4 KiB-page mappings, faulted in as
  // they fill. For memory touched once and rarely read again (the source
  // blobs): the first touch of a 2 MiB huge page zeroes all of it at once,
  // and on this VM that ran at 230-1100 MB/s against ~1300 MB/s for 4 KiB
  // pages (docs/performance.md).
  explicit SmallAlloc(bool huge_pages) : huge_pages_(huge_pages) {}
  SmallAlloc(const SmallAlloc&) = delete;
  SmallAlloc& operator=(const SmallAlloc&) = delete;
  ~SmallAlloc() { release_all(); }

  // Uninitialized block of n bytes (16-byte aligned); throws std::bad_alloc.
  void* alloc(size_t n) {
#if defined(JITVM_ALLOC_PASSTHROUGH)
    void* p = std::malloc(n ? n : 1);
    if (!p) throw std::bad_alloc();
    return p;
#elif defined(JITVM_ALLOC_CHECK)
    return checked_alloc(n);
#else
    if (__builtin_expect(n - 1 < kMaxSmall, 1)) {
      int c = static_cast<int>((n - 1) / kGranule);
      if (FreeBlock* b = free_[c]) {
        free_[c] = b->next;
        // The next block of this class was freed long ago and is likely cold;
        // fetching it now hides most of the next allocation's miss (~4% CPU time
        // on havlak and json).
        __builtin_prefetch(b->next, 1);
        return b;
      }
      return carve(c);
    }
    return big_alloc(n);
#endif
  }

  // Zeroed block of n bytes, as calloc(1, n).
  void* alloc_zeroed(size_t n) {
#if defined(JITVM_ALLOC_PASSTHROUGH)
    void* p = std::calloc(1, n ? n : 1);
    if (!p) throw std::bad_alloc();
    return p;
#else
#if !defined(JITVM_ALLOC_CHECK)
    if (n >= kSlabBytes) return big_alloc(n);  // a fresh mapping: already zero
#endif
    void* p = alloc(n);
    memset(p, 0, n);
    return p;
#endif
  }

  // Frees a block from alloc/alloc_zeroed/resize of exactly n bytes. p may be null.
  void free(void* p, size_t n) {
#if defined(JITVM_ALLOC_PASSTHROUGH)
    (void)n;
    std::free(p);
#elif defined(JITVM_ALLOC_CHECK)
    checked_free(p, n);
#else
    if (!p) return;
    if (__builtin_expect(n - 1 < kMaxSmall, 1)) {
      int c = static_cast<int>((n - 1) / kGranule);
      FreeBlock* b = static_cast<FreeBlock*>(p);
      b->next = free_[c];
      free_[c] = b;
      return;
    }
    big_free(p, n);
#endif
  }

  // realloc for sized blocks: the first min(old_n, new_n) bytes are kept, the
  // rest is uninitialized. p may be null (old_n is then 0). Throws on failure,
  // leaving p valid.
  void* resize(void* p, size_t old_n, size_t new_n);

  // Frees every slab (all small blocks, live or not). The pool is usable again
  // afterwards.
  void release_all();

  size_t slab_bytes() const { return slab_total_; }

 private:
  struct FreeBlock {
    FreeBlock* next;
  };
  void* carve(int c);
  void* big_alloc(size_t n);  // above kMaxSmall: malloc, or a huge-page mapping from kSlabBytes on
  void big_free(void* p, size_t n);
  void* checked_alloc(size_t n);
  void checked_free(void* p, size_t n);

  FreeBlock* free_[kClasses] = {};
  char* bump_ = nullptr;      // next free byte of the current slab
  char* bump_end_ = nullptr;  // its end
  void* slabs_ = nullptr;     // singly linked through each slab's first word
  size_t slab_total_ = 0;
  bool huge_pages_ = true;
  // 4 KiB-page slabs: how far the current one is faulted in. carve() faults
  // in kPopulateStep at a time (MADV_POPULATE_WRITE) instead of one page
  // per first touch: 1.6 us a page against 2.5 us on this VM.
  char* populated_ = nullptr;
  static constexpr size_t kPopulateStep = 64 * 1024;
};

}  // namespace jitvm
