#include "jit/range_allocator.h"

#include <cassert>

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
  if (end_ > begin_) InsertFree(begin_, end_ - begin_);
}

void RangeAllocator::InsertFree(uintptr_t addr, size_t size) {
  free_by_addr_.emplace(addr, size);
  free_by_size_.emplace(size, addr);
}

void RangeAllocator::EraseFree(std::map<uintptr_t, size_t>::iterator it) {
  free_by_size_.erase({it->second, it->first});
  free_by_addr_.erase(it);
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

    EraseFree(free_by_addr_.find(hole_start));
    if (head != 0) InsertFree(hole_start, head);
    if (tail != 0) InsertFree(start + need, tail);
    allocated_.emplace(start, need);
    bytes_used_ += need;
    return start;
  }
  return std::nullopt;
}

bool RangeAllocator::Free(uintptr_t addr, size_t size) {
  auto live = allocated_.find(addr);
  if (live == allocated_.end() || size == 0 || RoundedSize(size) != live->second) return false;
  size_t len = live->second;
  allocated_.erase(live);
  bytes_used_ -= len;

  uintptr_t start = addr;
  uintptr_t end = addr + len;
  // Merge with the hole that ends exactly at `addr`, then the one starting at
  // the end, so the free map never holds two adjacent holes.
  auto next = free_by_addr_.lower_bound(addr);
  if (next != free_by_addr_.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second == addr) {
      start = prev->first;
      len += prev->second;
      EraseFree(prev);
    }
  }
  if (next != free_by_addr_.end() && next->first == end) {
    len += next->second;
    EraseFree(next);
  }
  InsertFree(start, len);
  return true;
}

size_t RangeAllocator::AllocationSize(uintptr_t addr) const {
  auto it = allocated_.find(addr);
  return it == allocated_.end() ? 0 : it->second;
}

std::optional<std::pair<uintptr_t, size_t>> RangeAllocator::FindAllocation(uintptr_t addr) const {
  auto it = allocated_.upper_bound(addr);
  if (it == allocated_.begin()) return std::nullopt;
  --it;
  if (addr - it->first >= it->second) return std::nullopt;
  return *it;
}

RangeAllocatorStats RangeAllocator::Stats() const {
  RangeAllocatorStats s;
  s.capacity = end_ - begin_;
  s.bytes_used = bytes_used_;
  s.bytes_free = s.capacity - bytes_used_;
  s.largest_free = free_by_size_.empty() ? 0 : free_by_size_.rbegin()->first;
  s.allocation_count = allocated_.size();
  s.free_range_count = free_by_addr_.size();
  return s;
}

}  // namespace jitvm::jit
