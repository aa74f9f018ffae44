// An address-range allocator: hands out aligned sub-ranges of [base, base+size)
// and takes them back, merging freed neighbours so large requests keep fitting.
//
// Why best-fit over a size index: the JIT cache sees a churn of small and
// medium functions, and best-fit (lowest address on ties) keeps holes few and
// code packed at low addresses, which in turn makes freed addresses come back
// quickly (the issue requires address reuse to show up over a run).
//
// The allocator only does bookkeeping; it never touches the memory it manages,
// so the same class serves the code cache (RX addresses) and the data region.
// It is not thread-safe: owners lock around it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <utility>

namespace jitvm::jit {

struct RangeAllocatorStats {
  size_t capacity = 0;          // bytes managed
  size_t bytes_used = 0;        // sum of live allocations (rounded to the granule)
  size_t bytes_free = 0;        // capacity - bytes_used
  size_t largest_free = 0;      // the biggest request that could succeed with the granule alignment
  size_t allocation_count = 0;  // live allocations
  size_t free_range_count = 0;  // holes; a measure of fragmentation
};

class RangeAllocator {
 public:
  // Cache-line alignment: code entries should not share a line with a
  // neighbour that may be freed and rewritten while this one runs.
  static constexpr size_t kDefaultAlignment = 64;

  // `granule` is both the minimum alignment of every allocation and the unit
  // sizes are rounded up to; it must be a power of two. A base that is not
  // granule-aligned loses its unaligned head.
  RangeAllocator(uintptr_t base, size_t size, size_t granule = kDefaultAlignment);

  RangeAllocator(const RangeAllocator&) = delete;
  RangeAllocator& operator=(const RangeAllocator&) = delete;

  // Returns the start of a free range of at least `size` bytes aligned to
  // max(alignment, granule), or nullopt if none is left (or size is 0, or
  // alignment is not a power of two).
  std::optional<uintptr_t> Allocate(size_t size, size_t alignment = 0);

  // Returns [addr, addr+size) to the free pool. `addr` must be a live
  // allocation and `size` the size it was requested with (any size rounding to
  // the same granule count is accepted). Returns false, changing nothing, on a
  // double free or a mismatched address/size, so callers can assert on it.
  bool Free(uintptr_t addr, size_t size);

  // The rounded size of the live allocation starting at `addr`, or 0.
  size_t AllocationSize(uintptr_t addr) const;
  // The live allocation containing `addr` as (start, rounded size), if any;
  // lets stack walkers map a pc to the code that holds it.
  std::optional<std::pair<uintptr_t, size_t>> FindAllocation(uintptr_t addr) const;

  // What an allocation of `size` bytes really occupies.
  size_t RoundedSize(size_t size) const { return (size + granule_ - 1) & ~(granule_ - 1); }

  bool Owns(uintptr_t addr) const { return addr >= begin_ && addr < end_; }
  uintptr_t begin() const { return begin_; }
  uintptr_t end() const { return end_; }
  size_t granule() const { return granule_; }

  RangeAllocatorStats Stats() const;

 private:
  void InsertFree(uintptr_t addr, size_t size);
  size_t GranuleOf(uintptr_t addr) const { return (addr - begin_) >> granule_shift_; }
  // The rounded size of the live allocation starting at granule g (its start
  // bit is set): up to the next start or unused granule.
  size_t SizeAt(size_t g) const;
  static bool Test(const uint64_t* bits, size_t i) { return (bits[i / 64] >> (i % 64)) & 1; }
  static void SetRange(uint64_t* bits, size_t from, size_t to, bool value);

  struct FreeBits {
    void operator()(uint64_t* p) const;
  };

  uintptr_t begin_;
  uintptr_t end_;
  size_t granule_;
  unsigned granule_shift_ = 0;
  size_t bytes_used_ = 0;
  size_t allocation_count_ = 0;
  std::map<uintptr_t, size_t> free_by_addr_;         // start -> size; for coalescing
  std::set<std::pair<size_t, uintptr_t>> free_by_size_;  // (size, start); for best-fit
  // The live allocations, two bits per granule: where one starts, and which
  // granules are in one. Validates Free and answers FindAllocation. Was a
  // std::map (start -> size): with 20,000 compiled functions its nodes were
  // cold and ~15 deep, and the emplace in Allocate alone was ~1% of a jitvm
  // run's samples (code cache, .eh_frame tables and debug info all allocate
  // here). Setting and testing bits touches one or two cache lines. calloc'ed:
  // pages of a large cache nobody allocates in are never touched.
  std::unique_ptr<uint64_t, FreeBits> starts_;
  std::unique_ptr<uint64_t, FreeBits> used_;
  size_t granules_ = 0;
};

}  // namespace jitvm::jit
