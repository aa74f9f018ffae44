// The Memory views readers stack on each other: LocalMemory (this process,
// unmapped pages are short reads), RangeMemory (a window), SnapshotMemory
// (captured regions at their addresses) and PageCacheMemory (one inner read
// per page).
#include "debuginfo/memory.h"

#include <sys/mman.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace jitscope {
namespace {

constexpr uint64_t kPage = PageCacheMemory::kPageSize;

std::vector<uint8_t> Pattern(size_t n, uint8_t seed = 0) {
  std::vector<uint8_t> bytes(n);
  for (size_t i = 0; i < n; i++) bytes[i] = static_cast<uint8_t>(i * 7 + seed + (i >> 8));
  return bytes;
}

// Counts the reads that reach the inner Memory.
class CountingMemory : public Memory {
 public:
  explicit CountingMemory(Memory& inner) : inner_(inner) {}
  size_t Read(uint64_t addr, void* dst, size_t n) override {
    reads++;
    return inner_.Read(addr, dst, n);
  }
  int reads = 0;

 private:
  Memory& inner_;
};

// Any address is readable: byte = low bits of the address (no backing buffer).
class AddressMemory : public Memory {
 public:
  size_t Read(uint64_t addr, void* dst, size_t n) override {
    auto* out = static_cast<uint8_t*>(dst);
    for (size_t i = 0; i < n; i++) out[i] = static_cast<uint8_t>((addr + i) ^ ((addr + i) >> 12));
    return n;
  }
};

// Two pages: the first readable, the second unmapped (or PROT_NONE).
class TwoPages {
 public:
  explicit TwoPages(bool unmap_second) {
    size_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    void* p = mmap(nullptr, 2 * size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return;
    base_ = static_cast<uint8_t*>(p);
    for (size_t i = 0; i < size_; i++) base_[i] = static_cast<uint8_t>(i * 13 + 1);
    if (unmap_second) {
      munmap(base_ + size_, size_);
      unmapped_ = true;
    } else {
      mprotect(base_ + size_, size_, PROT_NONE);
    }
  }
  ~TwoPages() {
    if (base_ != nullptr) munmap(base_, unmapped_ ? size_ : 2 * size_);
  }
  TwoPages(const TwoPages&) = delete;
  TwoPages& operator=(const TwoPages&) = delete;

  uint8_t* base() const { return base_; }
  size_t page_size() const { return size_; }
  uint64_t address(size_t offset) const { return reinterpret_cast<uint64_t>(base_) + offset; }

 private:
  uint8_t* base_ = nullptr;
  size_t size_ = 0;
  bool unmapped_ = false;
};

// ---------------------------------------------------------------- LocalMemory

TEST(MemoryViews, LocalMemoryReadsOwnBytes) {
  const std::vector<uint8_t> data = Pattern(300, 5);
  LocalMemory memory;
  std::vector<uint8_t> out(300, 0xee);
  EXPECT_EQ(memory.Read(reinterpret_cast<uint64_t>(data.data()), out.data(), out.size()), 300u);
  EXPECT_EQ(out, data);
  uint8_t one = 0;
  EXPECT_EQ(memory.Read(reinterpret_cast<uint64_t>(data.data()), &one, 0), 0u);
  EXPECT_EQ(one, 0);

  const char text[] = "jitscope";
  std::string s;
  EXPECT_TRUE(memory.ReadString(reinterpret_cast<uint64_t>(text), &s, 100));
  EXPECT_EQ(s, "jitscope");
}

TEST(MemoryViews, LocalMemoryUnmappedAddressIsAShortRead) {
  for (bool unmap : {true, false}) {
    SCOPED_TRACE(unmap ? "munmap" : "PROT_NONE");
    TwoPages pages(unmap);
    ASSERT_NE(pages.base(), nullptr);
    LocalMemory memory;
    uint8_t out[64];
    std::memset(out, 0xee, sizeof(out));
    EXPECT_EQ(memory.Read(pages.address(pages.page_size()), out, sizeof(out)), 0u);
    EXPECT_EQ(out[0], 0xee);
    EXPECT_EQ(memory.Read(pages.address(pages.page_size() + 100), out, 1), 0u);
    uint64_t value = 0;
    EXPECT_FALSE(memory.Read64(pages.address(pages.page_size()), &value));

    // Last bytes of the mapped page: all there; one more and ReadFully fails.
    EXPECT_EQ(memory.Read(pages.address(pages.page_size() - 16), out, 16), 16u);
    EXPECT_EQ(0, std::memcmp(out, pages.base() + pages.page_size() - 16, 16));
    EXPECT_FALSE(memory.ReadFully(pages.address(pages.page_size() - 16), out, 17));
    // A read across the end returns at most the mapped part, and what it
    // returns is right.
    std::memset(out, 0, sizeof(out));
    size_t got = memory.Read(pages.address(pages.page_size() - 8), out, 16);
    EXPECT_LE(got, 8u);
    EXPECT_EQ(0, std::memcmp(out, pages.base() + pages.page_size() - 8, got));
    // A string that ends right before the unmapped page is still readable.
    pages.base()[pages.page_size() - 1] = 0;
    std::memset(pages.base() + pages.page_size() - 6, 'x', 5);
    std::string s;
    EXPECT_TRUE(memory.ReadString(pages.address(pages.page_size() - 6), &s, 1000));
    EXPECT_EQ(s, "xxxxx");
  }
}

TEST(MemoryViews, LocalMemoryNullAndWildAddresses) {
  LocalMemory memory;
  uint8_t out[8];
  EXPECT_EQ(memory.Read(0, out, sizeof(out)), 0u);
  EXPECT_EQ(memory.Read(0xffffffffffff0000ull, out, sizeof(out)), 0u);
  EXPECT_FALSE(memory.ReadFully(~uint64_t{0} - 3, out, sizeof(out)));  // wraps
}

// ---------------------------------------------------------------- RangeMemory

TEST(MemoryViews, RangeMemoryRejectsReadsOutside) {
  BufferMemory buffer(0x1000, Pattern(64));
  RangeMemory range(buffer, 0x1010, 0x1020);
  uint8_t out[32];
  EXPECT_EQ(range.Read(0x100f, out, 1), 0u);
  EXPECT_EQ(range.Read(0x1000, out, 32), 0u);  // starts before, even if it overlaps
  EXPECT_EQ(range.Read(0x1020, out, 1), 0u);
  EXPECT_EQ(range.Read(0x1030, out, 1), 0u);
  EXPECT_EQ(range.Read(0, out, 1), 0u);
  EXPECT_EQ(range.Read(~uint64_t{0}, out, 1), 0u);
}

TEST(MemoryViews, RangeMemoryClipsAtTheEnd) {
  const std::vector<uint8_t> bytes = Pattern(64);
  BufferMemory buffer(0x1000, bytes);
  RangeMemory range(buffer, 0x1010, 0x1020);
  uint8_t out[32] = {};
  EXPECT_EQ(range.Read(0x1010, out, 16), 16u);
  EXPECT_EQ(0, std::memcmp(out, bytes.data() + 0x10, 16));
  std::memset(out, 0xee, sizeof(out));
  EXPECT_EQ(range.Read(0x1018, out, 32), 8u);
  EXPECT_EQ(0, std::memcmp(out, bytes.data() + 0x18, 8));
  EXPECT_EQ(out[8], 0xee);  // nothing written past the clip
  EXPECT_EQ(range.Read(0x101f, out, 32), 1u);
  EXPECT_EQ(out[0], bytes[0x1f]);
  EXPECT_FALSE(range.ReadFully(0x1018, out, 9));
  EXPECT_TRUE(range.ReadFully(0x1018, out, 8));
}

TEST(MemoryViews, RangeMemoryWiderThanItsInner) {
  const std::vector<uint8_t> bytes = Pattern(16);
  BufferMemory buffer(0x1000, bytes);
  RangeMemory range(buffer, 0x800, 0x2000);
  uint8_t out[32];
  EXPECT_EQ(range.Read(0x1008, out, 32), 8u);  // the inner's end comes first
  EXPECT_EQ(0, std::memcmp(out, bytes.data() + 8, 8));
  EXPECT_EQ(range.Read(0x900, out, 4), 0u);
}

TEST(MemoryViews, RangeMemoryUpToTheTopOfTheAddressSpace) {
  AddressMemory inner;
  RangeMemory range(inner, ~uint64_t{0} - 15, ~uint64_t{0});
  uint8_t out[32];
  EXPECT_EQ(range.Read(~uint64_t{0} - 4, out, 32), 4u);
  EXPECT_EQ(range.Read(~uint64_t{0}, out, 1), 0u);  // end is exclusive
}

// ------------------------------------------------------------- SnapshotMemory

TEST(MemoryViews, SnapshotAddRegionRejectsOverlapsAndEmpty) {
  SnapshotMemory snapshot;
  ASSERT_TRUE(snapshot.AddRegion(0x1000, Pattern(16)));
  EXPECT_FALSE(snapshot.AddRegion(0x2000, {}));
  EXPECT_FALSE(snapshot.AddRegion(0x1000, Pattern(16)));  // the same
  EXPECT_FALSE(snapshot.AddRegion(0x1000, Pattern(1)));   // same start, shorter
  EXPECT_FALSE(snapshot.AddRegion(0x100f, Pattern(16)));  // starts on the last byte
  EXPECT_FALSE(snapshot.AddRegion(0x0ff8, Pattern(9)));   // ends on the first byte
  EXPECT_FALSE(snapshot.AddRegion(0x0ff0, Pattern(64)));  // covers it
  EXPECT_FALSE(snapshot.AddRegion(0x1004, Pattern(4)));   // inside it
  EXPECT_FALSE(snapshot.AddRegion(~uint64_t{0} - 3, Pattern(8)));  // wraps
  EXPECT_TRUE(snapshot.AddRegion(0x1010, Pattern(16, 1)));  // adjacent after
  EXPECT_TRUE(snapshot.AddRegion(0x0ff0, Pattern(16, 2)));  // adjacent before
  EXPECT_TRUE(snapshot.AddRegion(0x3000, Pattern(8, 3)));
  EXPECT_FALSE(snapshot.AddRegion(0x2ff8, Pattern(0x100)));  // between two, into the later
  EXPECT_FALSE(snapshot.AddRegion(0x101f, Pattern(0x2000)));  // spans the gap into both

  ASSERT_EQ(snapshot.regions().size(), 4u);
  auto it = snapshot.regions().begin();
  EXPECT_EQ(it->first, 0x0ff0u);
  EXPECT_EQ((++it)->first, 0x1000u);
  EXPECT_EQ((++it)->first, 0x1010u);
  EXPECT_EQ((++it)->first, 0x3000u);
  EXPECT_EQ(it->second, Pattern(8, 3));
}

TEST(MemoryViews, SnapshotServesOriginalAddresses) {
  SnapshotMemory snapshot;
  const std::vector<uint8_t> a = Pattern(32, 1);
  const std::vector<uint8_t> b = Pattern(16, 2);
  const std::vector<uint8_t> c = Pattern(8, 3);
  ASSERT_TRUE(snapshot.AddRegion(0x5000, a));
  ASSERT_TRUE(snapshot.AddRegion(0x5020, b));  // adjacent to a
  ASSERT_TRUE(snapshot.AddRegion(0x9000, c));

  uint8_t out[64];
  std::memset(out, 0xee, sizeof(out));
  EXPECT_EQ(snapshot.Read(0x5000, out, 32), 32u);
  EXPECT_EQ(0, std::memcmp(out, a.data(), 32));
  // Short at a region's end, even with the next region adjacent.
  EXPECT_EQ(snapshot.Read(0x5010, out, 64), 16u);
  EXPECT_EQ(0, std::memcmp(out, a.data() + 16, 16));
  // ReadFully continues into the adjacent region.
  EXPECT_TRUE(snapshot.ReadFully(0x5018, out, 24));
  EXPECT_EQ(0, std::memcmp(out, a.data() + 24, 8));
  EXPECT_EQ(0, std::memcmp(out + 8, b.data(), 16));
  EXPECT_FALSE(snapshot.ReadFully(0x5018, out, 25));  // one byte into the gap

  EXPECT_EQ(snapshot.Read(0x9004, out, 64), 4u);
  EXPECT_EQ(0, std::memcmp(out, c.data() + 4, 4));
  // Gaps, before the first, after the last.
  EXPECT_EQ(snapshot.Read(0x5030, out, 1), 0u);
  EXPECT_EQ(snapshot.Read(0x8fff, out, 1), 0u);
  EXPECT_EQ(snapshot.Read(0x4fff, out, 2), 0u);
  EXPECT_EQ(snapshot.Read(0x9008, out, 1), 0u);
  EXPECT_EQ(snapshot.Read(0, out, 1), 0u);

  SnapshotMemory empty;
  EXPECT_EQ(empty.Read(0x5000, out, 1), 0u);
}

// ------------------------------------------------------------ PageCacheMemory

TEST(MemoryViews, PageCacheReadsEachPageOnce) {
  constexpr uint64_t kBase = 0x40000;
  const std::vector<uint8_t> bytes = Pattern(3 * kPage);
  BufferMemory buffer(kBase, bytes);
  CountingMemory counting(buffer);
  PageCacheMemory cache(counting);

  uint64_t value = 0;
  ASSERT_TRUE(cache.Read64(kBase + 0x10, &value));
  uint64_t expected = 0;
  std::memcpy(&expected, bytes.data() + 0x10, 8);
  EXPECT_EQ(value, expected);
  EXPECT_EQ(counting.reads, 1);  // the whole page in one inner read

  for (uint64_t offset = 0; offset + 8 <= kPage; offset += 40) {
    ASSERT_TRUE(cache.Read64(kBase + offset, &value));
    std::memcpy(&expected, bytes.data() + offset, 8);
    ASSERT_EQ(value, expected) << offset;
  }
  EXPECT_EQ(counting.reads, 1);

  ASSERT_TRUE(cache.Read64(kBase + 2 * kPage + 0x100, &value));
  std::memcpy(&expected, bytes.data() + 2 * kPage + 0x100, 8);
  EXPECT_EQ(value, expected);
  EXPECT_EQ(counting.reads, 2);
  ASSERT_TRUE(cache.Read64(kBase + 8, &value));
  EXPECT_EQ(counting.reads, 2);  // the first page is still cached
}

TEST(MemoryViews, PageCacheServesACopyUntilClear) {
  constexpr uint64_t kBase = 0x40000;
  BufferMemory buffer(kBase, std::vector<uint8_t>(kPage, 0x11));
  CountingMemory counting(buffer);
  PageCacheMemory cache(counting);

  uint8_t out = 0;
  ASSERT_EQ(cache.Read(kBase + 100, &out, 1), 1u);
  EXPECT_EQ(out, 0x11);
  buffer.bytes()[100] = 0x22;  // the inner memory changes
  ASSERT_EQ(cache.Read(kBase + 100, &out, 1), 1u);
  EXPECT_EQ(out, 0x11);  // the copy
  EXPECT_EQ(counting.reads, 1);

  cache.Clear();
  ASSERT_EQ(cache.Read(kBase + 100, &out, 1), 1u);
  EXPECT_EQ(out, 0x22);
  EXPECT_EQ(counting.reads, 2);
  ASSERT_EQ(cache.Read(kBase + 200, &out, 1), 1u);
  EXPECT_EQ(counting.reads, 2);
}

TEST(MemoryViews, PageCacheReadsAcrossAPageBoundary) {
  constexpr uint64_t kBase = 0x40000;
  const std::vector<uint8_t> bytes = Pattern(2 * kPage);
  BufferMemory buffer(kBase, bytes);
  CountingMemory counting(buffer);
  PageCacheMemory cache(counting);

  uint8_t out[64];
  std::memset(out, 0xee, sizeof(out));
  // One Read stops at the page end...
  EXPECT_EQ(cache.Read(kBase + kPage - 4, out, 16), 4u);
  EXPECT_EQ(0, std::memcmp(out, bytes.data() + kPage - 4, 4));
  EXPECT_EQ(out[4], 0xee);
  // ...ReadFully goes on into the next page.
  ASSERT_TRUE(cache.ReadFully(kBase + kPage - 20, out, 64));
  EXPECT_EQ(0, std::memcmp(out, bytes.data() + kPage - 20, 64));
  EXPECT_EQ(counting.reads, 2);

  std::string s;
  for (size_t i = 0; i < 2 * kPage; i++) buffer.bytes()[i] = static_cast<uint8_t>('a' + i % 26);
  buffer.bytes()[2 * kPage - 1] = 0;
  cache.Clear();
  counting.reads = 0;
  ASSERT_TRUE(cache.ReadString(kBase + kPage - 30, &s, 2 * kPage));
  EXPECT_EQ(s.size(), kPage + 29);
  EXPECT_EQ(0, std::memcmp(s.data(), buffer.bytes().data() + kPage - 30, s.size()));
  EXPECT_EQ(counting.reads, 2);  // many 64-byte string chunks, two pages
}

TEST(MemoryViews, PageCachePartiallyReadablePage) {
  // Ends inside a page: the page's readable part is cached, the rest is 0.
  constexpr uint64_t kBase = 0x40000;
  const std::vector<uint8_t> bytes = Pattern(100, 9);
  BufferMemory buffer(kBase, bytes);
  CountingMemory counting(buffer);
  PageCacheMemory cache(counting);
  uint8_t out[256];
  EXPECT_EQ(cache.Read(kBase + 10, out, 200), 90u);
  EXPECT_EQ(0, std::memcmp(out, bytes.data() + 10, 90));
  EXPECT_EQ(cache.Read(kBase + 99, out, 4), 1u);
  EXPECT_EQ(out[0], bytes[99]);
  EXPECT_EQ(cache.Read(kBase + 100, out, 4), 0u);
  EXPECT_EQ(cache.Read(kBase + kPage - 1, out, 1), 0u);
  EXPECT_FALSE(cache.ReadFully(kBase + 96, out, 8));
}

TEST(MemoryViews, PageCacheBufferStartingMidPage) {
  // The page start is unreadable: reads still return the right bytes.
  constexpr uint64_t kBase = 0x40000 + 0x123;
  const std::vector<uint8_t> bytes = Pattern(0x50, 4);
  BufferMemory buffer(kBase, bytes);
  CountingMemory counting(buffer);
  PageCacheMemory cache(counting);
  uint8_t out[256];
  std::memset(out, 0xee, sizeof(out));
  EXPECT_EQ(cache.Read(kBase, out, 0x100), 0x50u);
  EXPECT_EQ(0, std::memcmp(out, bytes.data(), 0x50));
  EXPECT_EQ(out[0x50], 0xee);
  EXPECT_EQ(cache.Read(kBase + 0x20, out, 8), 8u);
  EXPECT_EQ(0, std::memcmp(out, bytes.data() + 0x20, 8));
  EXPECT_EQ(cache.Read(kBase - 1, out, 8), 0u);
  EXPECT_EQ(cache.Read(kBase + 0x50, out, 8), 0u);
  uint32_t value = 0;
  ASSERT_TRUE(cache.Read32(kBase + 0x4c, &value));
  uint32_t expected = 0;
  std::memcpy(&expected, bytes.data() + 0x4c, 4);
  EXPECT_EQ(value, expected);
}

TEST(MemoryViews, PageCacheSnapshotWithAHoleInAPage) {
  // Two regions in one page with a gap between them: the page copy stops at
  // the gap, and reads beyond it still reach the inner memory.
  SnapshotMemory snapshot;
  const std::vector<uint8_t> a = Pattern(0x100, 1);
  const std::vector<uint8_t> b = Pattern(0x100, 2);
  ASSERT_TRUE(snapshot.AddRegion(0x70000, a));
  ASSERT_TRUE(snapshot.AddRegion(0x70200, b));
  PageCacheMemory cache(snapshot);
  uint8_t out[0x200];
  EXPECT_EQ(cache.Read(0x70080, out, 0x200), 0x80u);
  EXPECT_EQ(0, std::memcmp(out, a.data() + 0x80, 0x80));
  EXPECT_EQ(cache.Read(0x70100, out, 8), 0u);
  EXPECT_EQ(cache.Read(0x70210, out, 0x200), 0xf0u);
  EXPECT_EQ(0, std::memcmp(out, b.data() + 0x10, 0xf0));
}

TEST(MemoryViews, PageCacheOverLocalMemory) {
  TwoPages pages(/*unmap_second=*/true);
  ASSERT_NE(pages.base(), nullptr);
  LocalMemory local;
  CountingMemory counting(local);
  PageCacheMemory cache(counting);
  // The test assumes 4 KiB pages (the cache's unit); larger pages only make
  // the mapped part bigger.
  uint64_t end = pages.address(pages.page_size());
  uint8_t out[32];
  EXPECT_EQ(cache.Read(end - 16, out, 32), 16u);
  EXPECT_EQ(0, std::memcmp(out, pages.base() + pages.page_size() - 16, 16));
  EXPECT_EQ(cache.Read(end, out, 8), 0u);
  EXPECT_EQ(cache.Read(end - 100, out, 8), 8u);
  EXPECT_EQ(0, std::memcmp(out, pages.base() + pages.page_size() - 100, 8));
}

TEST(MemoryViews, PageCacheStopsCachingAtTheLimit) {
  AddressMemory pattern;
  CountingMemory counting(pattern);
  PageCacheMemory cache(counting);
  constexpr uint64_t kBase = 0x100000000;
  uint8_t out = 0;
  for (uint64_t i = 0; i < PageCacheMemory::kMaxPages; i++) ASSERT_EQ(cache.Read(kBase + i * kPage, &out, 1), 1u);
  EXPECT_EQ(counting.reads, static_cast<int>(PageCacheMemory::kMaxPages));
  // Cached pages are still served from the copies.
  ASSERT_EQ(cache.Read(kBase + 5 * kPage + 3, &out, 1), 1u);
  EXPECT_EQ(counting.reads, static_cast<int>(PageCacheMemory::kMaxPages));
  // A page beyond the limit: every read goes to the inner memory, with the
  // right bytes.
  uint64_t beyond = kBase + PageCacheMemory::kMaxPages * kPage + 7;
  for (int i = 0; i < 3; i++) {
    uint8_t expected = 0;
    pattern.Read(beyond, &expected, 1);
    ASSERT_EQ(cache.Read(beyond, &out, 1), 1u);
    EXPECT_EQ(out, expected);
  }
  EXPECT_EQ(counting.reads, static_cast<int>(PageCacheMemory::kMaxPages) + 3);
  cache.Clear();
  ASSERT_EQ(cache.Read(beyond, &out, 1), 1u);
  ASSERT_EQ(cache.Read(beyond + 1, &out, 1), 1u);
  EXPECT_EQ(counting.reads, static_cast<int>(PageCacheMemory::kMaxPages) + 4);  // cached again
}

TEST(MemoryViews, PageCacheZeroLengthRead) {
  BufferMemory buffer(0x1000, Pattern(16));
  CountingMemory counting(buffer);
  PageCacheMemory cache(counting);
  uint8_t out = 0xee;
  EXPECT_EQ(cache.Read(0x1000, &out, 0), 0u);
  EXPECT_EQ(out, 0xee);
  EXPECT_EQ(counting.reads, 0);
}

}  // namespace
}  // namespace jitscope
