#include "jit/range_allocator.h"

#include <algorithm>
#include <cassert>
#include <cstdlib>
#include <new>

namespace jitvm::jit {

namespace {

bool IsPowerOfTwo(size_t x) { return x != 0 && (x & (x - 1)) == 0; }

uintptr_t AlignUp(uintptr_t x, size_t alignment) {
  return (x + alignment - 1) & ~static_cast<uintptr_t>(alignment - 1);
}

}  // namespace

RangeAllocator::RangeAllocator(uintptr_t base, size_t size, size_t granule) : granule_(granule) {
  assert(IsPowerOfTwo(granule));
  if (!IsPowerOfTwo(granule_)) granule_ = kDefaultAlignment;
  // Only whole granules are usable, so both ends shrink to granule boundaries
  // (the tail is cut too so that every free range is a whole number of granules).
  uintptr_t end = size > UINTPTR_MAX - base ? UINTPTR_MAX : base + size;
  uintptr_t first = base > UINTPTR_MAX - granule_ ? end : AlignUp(base, granule_);
  uintptr_t last = end & ~static_cast<uintptr_t>(granule_ - 1);
  begin_ = first;
  end_ = last > first ? last : first;
  while ((size_t{1} << granule_shift_) < granule_) granule_shift_++;
  granules_ = (end_ - begin_) >> granule_shift_;
  size_t words = granules_ / 64 + 1;  // + 1: SizeAt may look at the bit after the last granule
  starts_.reset(static_cast<uint64_t*>(calloc(words, sizeof(uint64_t))));
  used_.reset(static_cast<uint64_t*>(calloc(words, sizeof(uint64_t))));
  if (!starts_ || !used_) throw std::bad_alloc();
  if (end_ > begin_) InsertFree(begin_, end_ - begin_);
}

void RangeAllocator::FreeBits::operator()(uint64_t* p) const { free(p); }

void RangeAllocator::SetRange(uint64_t* bits, size_t from, size_t to, bool value) {
  while (from < to) {
    size_t word = from / 64, bit = from % 64;
    size_t n = std::min<size_t>(64 - bit, to - from);
    uint64_t mask = (n == 64 ? ~uint64_t{0} : ((uint64_t{1} << n) - 1)) << bit;
    if (value) bits[word] |= mask;
    else bits[word] &= ~mask;
    from += n;
  }
}

size_t RangeAllocator::SizeAt(size_t g) const {
  const uint64_t* starts = starts_.get();
  const uint64_t* used = used_.get();
  // The allocation ends at the first granule after g that starts another one
  // or is not in one (or at the end of the range).
  size_t i = g + 1;
  while (i < granules_) {
    size_t word = i / 64, bit = i % 64;
    uint64_t stop = (starts[word] | ~used[word]) >> bit;
    if (stop != 0) {
      i += static_cast<size_t>(__builtin_ctzll(stop));
      break;
    }
    i += 64 - bit;
  }
  return (std::min(i, granules_) - g) << granule_shift_;
}

void RangeAllocator::InsertFree(uintptr_t addr, size_t size) {
  free_by_addr_.emplace(addr, size);
  free_by_size_.emplace(size, addr);
}

std::optional<uintptr_t> RangeAllocator::Allocate(size_t size, size_t alignment) {
  if (size == 0 || size > end_ - begin_) return std::nullopt;
  if (alignment == 0) alignment = granule_;
  if (!IsPowerOfTwo(alignment)) return std::nullopt;
  if (alignment < granule_) alignment = granule_;
  size_t need = RoundedSize(size);

  // Smallest hole first; with extra alignment a hole may need a padded head,
  // so keep looking upwards until one fits. Every hole starts on a granule,
  // so with the default alignment the first candidate always fits.
  for (auto it = free_by_size_.lower_bound({need, 0}); it != free_by_size_.end(); ++it) {
    auto [hole_size, hole_start] = *it;
    uintptr_t start = AlignUp(hole_start, alignment);
    size_t head = start - hole_start;
    if (head > hole_size || hole_size - head < need) continue;
    size_t tail = hole_size - head - need;

    // The hole leaves free_by_size_ through the iterator in hand (looking it
    // up again walked cold nodes: with many holes, the costliest part of an
    // allocation), and its head and tail take its place in free_by_addr_ by
    // hint, not by another walk from the root.
    free_by_size_.erase(it);
    auto place = free_by_addr_.erase(free_by_addr_.find(hole_start));
    if (tail != 0) {
      place = free_by_addr_.emplace_hint(place, start + need, tail);
      free_by_size_.emplace(tail, start + need);
    }
    if (head != 0) {
      free_by_addr_.emplace_hint(place, hole_start, head);
      free_by_size_.emplace(head, hole_start);
    }
    size_t g = GranuleOf(start);
    SetRange(starts_.get(), g, g + 1, true);
    SetRange(used_.get(), g, g + (need >> granule_shift_), true);
    allocation_count_++;
    bytes_used_ += need;
    return start;
  }
  return std::nullopt;
}

bool RangeAllocator::Free(uintptr_t addr, size_t size) {
  if (!Owns(addr) || (addr - begin_) % granule_ != 0 || size == 0) return false;
  size_t g = GranuleOf(addr);
  if (!Test(starts_.get(), g)) return false;
  size_t len = SizeAt(g);
  if (RoundedSize(size) != len) return false;
  SetRange(starts_.get(), g, g + 1, false);
  SetRange(used_.get(), g, g + (len >> granule_shift_), false);
  allocation_count_--;
  bytes_used_ -= len;

  uintptr_t end = addr + len;
  // Merge with the hole that ends exactly at `addr` and the one starting at
  // the end, so the free map never holds two adjacent holes. A hole keeps
  // its node in free_by_addr_ when it grows (its start is the same) and new
  // nodes go in by hint: only free_by_size_ is searched from the root.
  auto next = free_by_addr_.lower_bound(addr);
  bool merge_next = next != free_by_addr_.end() && next->first == end;
  if (next != free_by_addr_.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second == addr) {
      free_by_size_.erase({prev->second, prev->first});
      prev->second += len;
      if (merge_next) {
        free_by_size_.erase({next->second, next->first});
        prev->second += next->second;
        free_by_addr_.erase(next);
      }
      free_by_size_.emplace(prev->second, prev->first);
      return true;
    }
  }
  if (merge_next) {
    len += next->second;
    free_by_size_.erase({next->second, next->first});
    next = free_by_addr_.erase(next);
  }
  free_by_addr_.emplace_hint(next, addr, len);
  free_by_size_.emplace(len, addr);
  return true;
}

size_t RangeAllocator::AllocationSize(uintptr_t addr) const {
  if (!Owns(addr) || (addr - begin_) % granule_ != 0) return 0;
  size_t g = GranuleOf(addr);
  return Test(starts_.get(), g) ? SizeAt(g) : 0;
}

std::optional<std::pair<uintptr_t, size_t>> RangeAllocator::FindAllocation(uintptr_t addr) const {
  if (!Owns(addr)) return std::nullopt;
  size_t g = GranuleOf(addr);
  if (!Test(used_.get(), g)) return std::nullopt;
  // The nearest start at or before g: there is one, since g is in use.
  const uint64_t* starts = starts_.get();
  size_t word = g / 64;
  uint64_t mask = starts[word] & (g % 64 == 63 ? ~uint64_t{0} : ((uint64_t{2} << (g % 64)) - 1));
  while (mask == 0 && word > 0) mask = starts[--word];
  if (mask == 0) return std::nullopt;  // unreachable while the bits are consistent
  size_t start = word * 64 + 63 - static_cast<size_t>(__builtin_clzll(mask));
  return std::make_pair(begin_ + (start << granule_shift_), SizeAt(start));
}

RangeAllocatorStats RangeAllocator::Stats() const {
  RangeAllocatorStats s;
  s.capacity = end_ - begin_;
  s.bytes_used = bytes_used_;
  s.bytes_free = s.capacity - bytes_used_;
  s.largest_free = free_by_size_.empty() ? 0 : free_by_size_.rbegin()->first;
  s.allocation_count = allocation_count_;
  s.free_range_count = free_by_addr_.size();
  return s;
}

}  // namespace jitvm::jit
