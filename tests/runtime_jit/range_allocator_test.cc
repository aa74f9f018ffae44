// RangeAllocator is pure bookkeeping, so these tests manage made-up address
// ranges and never touch memory.
#include "jit/range_allocator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <random>
#include <vector>

namespace jitvm::jit {
namespace {

constexpr uintptr_t kBase = 0x100000;
constexpr size_t kSize = 64 * 1024;

TEST(RangeAllocatorTest, StartsAsOneFreeRange) {
  RangeAllocator a(kBase, kSize);
  RangeAllocatorStats s = a.Stats();
  EXPECT_EQ(s.capacity, kSize);
  EXPECT_EQ(s.bytes_used, 0u);
  EXPECT_EQ(s.bytes_free, kSize);
  EXPECT_EQ(s.largest_free, kSize);
  EXPECT_EQ(s.allocation_count, 0u);
  EXPECT_EQ(s.free_range_count, 1u);
  EXPECT_EQ(a.begin(), kBase);
  EXPECT_EQ(a.end(), kBase + kSize);
  EXPECT_EQ(a.granule(), RangeAllocator::kDefaultAlignment);
}

TEST(RangeAllocatorTest, RoundsSizesAndAlignsToTheGranule) {
  RangeAllocator a(kBase, kSize);
  std::optional<uintptr_t> x = a.Allocate(1);
  std::optional<uintptr_t> y = a.Allocate(65);
  std::optional<uintptr_t> z = a.Allocate(64);
  ASSERT_TRUE(x && y && z);
  EXPECT_EQ(*x % 64, 0u);
  EXPECT_EQ(*y % 64, 0u);
  EXPECT_EQ(*z % 64, 0u);
  EXPECT_EQ(a.AllocationSize(*x), 64u);
  EXPECT_EQ(a.AllocationSize(*y), 128u);
  EXPECT_EQ(a.AllocationSize(*z), 64u);
  EXPECT_EQ(a.RoundedSize(65), 128u);
  EXPECT_EQ(a.Stats().bytes_used, 256u);
  EXPECT_EQ(a.Stats().allocation_count, 3u);
}

TEST(RangeAllocatorTest, UnalignedBaseLosesItsHeadAndTail) {
  RangeAllocator a(kBase + 10, 1000);
  EXPECT_EQ(a.begin(), kBase + 64);
  EXPECT_EQ(a.end(), kBase + 960);  // 1010 rounded down to a granule
  EXPECT_EQ(a.Stats().capacity, 896u);
  std::optional<uintptr_t> x = a.Allocate(100);
  ASSERT_TRUE(x);
  EXPECT_EQ(*x, kBase + 64);
}

TEST(RangeAllocatorTest, TooSmallRangeIsEmpty) {
  RangeAllocator a(kBase + 1, 100);  // no whole granule inside
  EXPECT_EQ(a.Stats().capacity, 0u);
  EXPECT_FALSE(a.Allocate(1));
}

TEST(RangeAllocatorTest, RejectsZeroOversizeAndBadAlignment) {
  RangeAllocator a(kBase, kSize);
  EXPECT_FALSE(a.Allocate(0));
  EXPECT_FALSE(a.Allocate(kSize + 1));
  EXPECT_FALSE(a.Allocate(SIZE_MAX));
  EXPECT_FALSE(a.Allocate(64, 96));
  EXPECT_EQ(a.Stats().bytes_used, 0u);
  EXPECT_TRUE(a.Allocate(kSize));  // the whole range at once
  EXPECT_FALSE(a.Allocate(1));
}

TEST(RangeAllocatorTest, FullReturnsNulloptAndFreeMakesRoom) {
  RangeAllocator a(kBase, kSize);
  std::vector<uintptr_t> got;
  while (std::optional<uintptr_t> x = a.Allocate(1000)) got.push_back(*x);
  // 1000 rounds to 1024, so exactly 64 fit.
  EXPECT_EQ(got.size(), kSize / 1024);
  EXPECT_EQ(a.Stats().bytes_free, 0u);
  EXPECT_EQ(a.Stats().largest_free, 0u);
  EXPECT_EQ(a.Stats().free_range_count, 0u);
  EXPECT_FALSE(a.Allocate(1));
  ASSERT_TRUE(a.Free(got[10], 1000));
  EXPECT_FALSE(a.Allocate(1025));  // only 1024 free
  std::optional<uintptr_t> again = a.Allocate(1024);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, got[10]);
}

TEST(RangeAllocatorTest, FreedAddressesAreReused) {
  RangeAllocator a(kBase, kSize);
  std::optional<uintptr_t> x = a.Allocate(200);
  std::optional<uintptr_t> y = a.Allocate(200);
  ASSERT_TRUE(x && y);
  ASSERT_TRUE(a.Free(*x, 200));
  std::optional<uintptr_t> z = a.Allocate(150);  // same granule count as 200
  ASSERT_TRUE(z);
  EXPECT_EQ(*z, *x);
}

TEST(RangeAllocatorTest, CoalescesWithBothNeighbours) {
  RangeAllocator a(kBase, 5 * 256);
  std::vector<uintptr_t> r;
  for (int i = 0; i < 5; i++) r.push_back(*a.Allocate(256));
  EXPECT_EQ(a.Stats().free_range_count, 0u);

  ASSERT_TRUE(a.Free(r[1], 256));
  ASSERT_TRUE(a.Free(r[3], 256));
  EXPECT_EQ(a.Stats().free_range_count, 2u);
  EXPECT_EQ(a.Stats().largest_free, 256u);

  ASSERT_TRUE(a.Free(r[2], 256));  // joins left and right holes
  EXPECT_EQ(a.Stats().free_range_count, 1u);
  EXPECT_EQ(a.Stats().largest_free, 768u);

  ASSERT_TRUE(a.Free(r[0], 256));  // joins the right hole only
  EXPECT_EQ(a.Stats().free_range_count, 1u);
  EXPECT_EQ(a.Stats().largest_free, 1024u);

  ASSERT_TRUE(a.Free(r[4], 256));  // joins the left hole only
  RangeAllocatorStats s = a.Stats();
  EXPECT_EQ(s.free_range_count, 1u);
  EXPECT_EQ(s.largest_free, 5u * 256);
  EXPECT_EQ(s.bytes_used, 0u);

  // The merged range serves one allocation of everything.
  std::optional<uintptr_t> all = a.Allocate(5 * 256);
  ASSERT_TRUE(all);
  EXPECT_EQ(*all, kBase);
}

TEST(RangeAllocatorTest, BestFitPrefersTheSmallestHole) {
  RangeAllocator a(kBase, 8 * 128);
  std::vector<uintptr_t> r;
  for (int i = 0; i < 8; i++) r.push_back(*a.Allocate(128));
  // A 256-byte hole at a low address, a 128-byte hole higher up.
  ASSERT_TRUE(a.Free(r[1], 128));
  ASSERT_TRUE(a.Free(r[2], 128));
  ASSERT_TRUE(a.Free(r[5], 128));
  std::optional<uintptr_t> x = a.Allocate(100);
  ASSERT_TRUE(x);
  EXPECT_EQ(*x, r[5]);
  // The big hole is intact for a big request.
  std::optional<uintptr_t> y = a.Allocate(256);
  ASSERT_TRUE(y);
  EXPECT_EQ(*y, r[1]);
}

TEST(RangeAllocatorTest, LargerAlignmentReturnsThePaddingToTheFreePool) {
  RangeAllocator a(kBase, kSize);
  std::optional<uintptr_t> small = a.Allocate(64);
  ASSERT_TRUE(small);
  EXPECT_EQ(*small, kBase);
  std::optional<uintptr_t> page = a.Allocate(100, 4096);
  ASSERT_TRUE(page);
  EXPECT_EQ(*page % 4096, 0u);
  EXPECT_EQ(*page, kBase + 4096);
  EXPECT_EQ(a.AllocationSize(*page), 128u);
  RangeAllocatorStats s = a.Stats();
  EXPECT_EQ(s.bytes_used, 64u + 128u);
  EXPECT_EQ(s.free_range_count, 2u);  // the padding before the page and the tail after it
  // The padding is usable.
  std::optional<uintptr_t> pad = a.Allocate(64);
  ASSERT_TRUE(pad);
  EXPECT_EQ(*pad, kBase + 64);
  // Freeing the aligned block merges it back with both sides.
  ASSERT_TRUE(a.Free(*page, 100));
  EXPECT_EQ(a.Stats().free_range_count, 1u);
}

TEST(RangeAllocatorTest, AlignmentSmallerThanTheGranuleStillGivesTheGranule) {
  RangeAllocator a(kBase + 64, kSize);
  std::optional<uintptr_t> x = a.Allocate(10, 8);
  ASSERT_TRUE(x);
  EXPECT_EQ(*x % 64, 0u);
}

TEST(RangeAllocatorTest, CustomGranule) {
  RangeAllocator a(kBase, 1024, /*granule=*/16);
  std::optional<uintptr_t> x = a.Allocate(1);
  std::optional<uintptr_t> y = a.Allocate(17);
  ASSERT_TRUE(x && y);
  EXPECT_EQ(*y - *x, 16u);
  EXPECT_EQ(a.AllocationSize(*y), 32u);
}

TEST(RangeAllocatorTest, BadFreesAreRejectedAndChangeNothing) {
  RangeAllocator a(kBase, kSize);
  uintptr_t x = *a.Allocate(256);
  uintptr_t y = *a.Allocate(256);
  RangeAllocatorStats before = a.Stats();
  EXPECT_FALSE(a.Free(x + 64, 192));      // interior pointer
  EXPECT_FALSE(a.Free(x, 512));           // wrong size
  EXPECT_FALSE(a.Free(x, 64));            // wrong size
  EXPECT_FALSE(a.Free(x, 0));             // zero size
  EXPECT_FALSE(a.Free(kBase + kSize, 64));  // outside
  RangeAllocatorStats after = a.Stats();
  EXPECT_EQ(after.bytes_used, before.bytes_used);
  EXPECT_EQ(after.allocation_count, before.allocation_count);
  EXPECT_EQ(after.free_range_count, before.free_range_count);

  EXPECT_TRUE(a.Free(x, 200));  // any size with the same rounding is accepted
  EXPECT_FALSE(a.Free(x, 200));  // double free
  EXPECT_TRUE(a.Free(y, 256));
  EXPECT_EQ(a.Stats().bytes_used, 0u);
  EXPECT_EQ(a.Stats().free_range_count, 1u);
}

TEST(RangeAllocatorTest, FindAllocationMapsInteriorAddresses) {
  RangeAllocator a(kBase, kSize);
  uintptr_t x = *a.Allocate(100);
  uintptr_t y = *a.Allocate(300);
  auto in_x = a.FindAllocation(x + 99);
  ASSERT_TRUE(in_x);
  EXPECT_EQ(in_x->first, x);
  EXPECT_EQ(in_x->second, 128u);
  // Rounding padding belongs to the allocation.
  EXPECT_TRUE(a.FindAllocation(x + 127));
  auto in_y = a.FindAllocation(y);
  ASSERT_TRUE(in_y);
  EXPECT_EQ(in_y->first, y);
  EXPECT_FALSE(a.FindAllocation(y + 320));  // free space after y
  EXPECT_FALSE(a.FindAllocation(kBase - 1));
  ASSERT_TRUE(a.Free(x, 100));
  EXPECT_FALSE(a.FindAllocation(x));
}

// Random allocate/free against a model of the live set: allocations never
// overlap, stay in bounds and aligned, and the accounting always adds up.
TEST(RangeAllocatorTest, RandomizedAgainstAModel) {
  constexpr size_t kRangeSize = 256 * 1024;
  constexpr int kSteps = 20000;
  RangeAllocator a(kBase, kRangeSize);
  std::map<uintptr_t, size_t> live;  // start -> requested size
  std::mt19937 rng(12345);
  size_t reused = 0;
  std::map<uintptr_t, bool> ever;

  for (int step = 0; step < kSteps; step++) {
    bool do_alloc = live.empty() || (rng() % 100) < 55;
    if (do_alloc) {
      size_t size = 1 + rng() % 3000;
      size_t align = (rng() % 8 == 0) ? 1024 : 0;
      std::optional<uintptr_t> x = a.Allocate(size, align);
      if (!x) {
        EXPECT_LT(a.Stats().largest_free, a.RoundedSize(size) + align);
        continue;
      }
      EXPECT_EQ(*x % (align ? align : 64), 0u);
      EXPECT_GE(*x, kBase);
      EXPECT_LE(*x + size, kBase + kRangeSize);
      auto next = live.lower_bound(*x);
      if (next != live.end()) {
        EXPECT_GE(next->first, *x + a.RoundedSize(size));
      }
      if (next != live.begin()) {
        auto prev = std::prev(next);
        EXPECT_LE(prev->first + a.RoundedSize(prev->second), *x);
      }
      if (ever.count(*x)) reused++;
      ever[*x] = true;
      live[*x] = size;
    } else {
      auto it = live.begin();
      std::advance(it, rng() % live.size());
      ASSERT_TRUE(a.Free(it->first, it->second));
      live.erase(it);
    }
    if (step % 500 == 0) {
      size_t used = 0;
      for (auto& [addr, size] : live) used += a.RoundedSize(size);
      RangeAllocatorStats s = a.Stats();
      ASSERT_EQ(s.bytes_used, used);
      ASSERT_EQ(s.allocation_count, live.size());
      ASSERT_EQ(s.bytes_used + s.bytes_free, kRangeSize);
      ASSERT_LE(s.largest_free, s.bytes_free);
      // Sizes and pc lookups, with allocations back to back (where the
      // allocation ends only because the next one starts).
      for (auto& [addr, size] : live) {
        size_t rounded = a.RoundedSize(size);
        ASSERT_EQ(a.AllocationSize(addr), rounded);
        ASSERT_EQ(a.AllocationSize(addr + 64), rounded > 64 ? 0u : a.AllocationSize(addr + 64));
        for (uintptr_t pc : {addr, addr + rounded / 2, addr + rounded - 1}) {
          auto found = a.FindAllocation(pc);
          ASSERT_TRUE(found) << step;
          ASSERT_EQ(found->first, addr);
          ASSERT_EQ(found->second, rounded);
        }
      }
      for (int probe = 0; probe < 200; probe++) {
        uintptr_t pc = kBase + rng() % kRangeSize;
        auto it = live.upper_bound(pc);
        bool inside = it != live.begin() && pc < std::prev(it)->first + a.RoundedSize(std::prev(it)->second);
        ASSERT_EQ(a.FindAllocation(pc).has_value(), inside) << pc - kBase;
      }
    }
  }
  EXPECT_GT(reused, 0u);
  for (auto& [addr, size] : live) ASSERT_TRUE(a.Free(addr, size));
  RangeAllocatorStats s = a.Stats();
  EXPECT_EQ(s.bytes_used, 0u);
  EXPECT_EQ(s.free_range_count, 1u);
  EXPECT_EQ(s.largest_free, kRangeSize);
}

}  // namespace
}  // namespace jitvm::jit
