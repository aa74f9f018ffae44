#include "debuginfo/memory.h"

#include <gtest/gtest.h>

#include <cstring>

#include "debuginfo/result.h"

namespace jitscope {
namespace {

// Returns at most `chunk` bytes per call, like a remote read that stops at
// page boundaries.
class ChunkyMemory : public BufferMemory {
 public:
  ChunkyMemory(uint64_t base, std::vector<uint8_t> bytes, size_t chunk)
      : BufferMemory(base, std::move(bytes)), chunk_(chunk) {}
  size_t Read(uint64_t addr, void* dst, size_t n) override {
    return BufferMemory::Read(addr, dst, std::min(n, chunk_));
  }

 private:
  size_t chunk_;
};

TEST(MemoryTest, BufferReadStaysInBounds) {
  BufferMemory memory(0x1000, {1, 2, 3, 4});
  uint8_t out[8] = {};
  EXPECT_EQ(memory.Read(0x1000, out, 8), 4u);
  EXPECT_EQ(out[3], 4);
  EXPECT_EQ(memory.Read(0x1003, out, 8), 1u);
  EXPECT_EQ(memory.Read(0x1004, out, 8), 0u);
  EXPECT_EQ(memory.Read(0xfff, out, 1), 0u);
}

TEST(MemoryTest, ReadFullyFailsOnShortData) {
  BufferMemory memory(0x1000, {1, 2, 3, 4});
  uint8_t out[8] = {};
  EXPECT_TRUE(memory.ReadFully(0x1000, out, 4));
  EXPECT_FALSE(memory.ReadFully(0x1000, out, 5));
  EXPECT_TRUE(memory.ReadFully(0x1000, out, 0));
  EXPECT_FALSE(memory.ReadFully(~0ull - 1, out, 4)) << "wrapping range";
}

TEST(MemoryTest, ReadFullyContinuesAfterShortReads) {
  std::vector<uint8_t> bytes(100);
  for (size_t i = 0; i < bytes.size(); i++) bytes[i] = static_cast<uint8_t>(i);
  ChunkyMemory memory(0x2000, bytes, 7);
  std::vector<uint8_t> out(100);
  ASSERT_TRUE(memory.ReadFully(0x2000, out.data(), out.size()));
  EXPECT_EQ(out, bytes);
}

TEST(MemoryTest, ReadIntegers) {
  BufferMemory memory(0, {0x78, 0x56, 0x34, 0x12, 0xef, 0xcd, 0xab, 0x90});
  uint32_t v32 = 0;
  uint64_t v64 = 0;
  ASSERT_TRUE(memory.Read32(0, &v32));
  EXPECT_EQ(v32, 0x12345678u);
  ASSERT_TRUE(memory.Read64(0, &v64));
  EXPECT_EQ(v64, 0x90abcdef12345678ull);
  EXPECT_FALSE(memory.Read64(1, &v64));
}

TEST(MemoryTest, ReadString) {
  std::vector<uint8_t> bytes(200, 'a');
  bytes[150] = '\0';
  ChunkyMemory memory(0x3000, bytes, 13);
  std::string text;
  ASSERT_TRUE(memory.ReadString(0x3000, &text, 1000));
  EXPECT_EQ(text.size(), 150u);
  EXPECT_TRUE(memory.ReadString(0x3000, &text, 150));
  EXPECT_FALSE(memory.ReadString(0x3000, &text, 149)) << "unterminated within the limit";
  EXPECT_FALSE(memory.ReadString(0x3000 + 151, &text, 1000)) << "runs off the end";
}

TEST(MemoryTest, HexAddress) {
  EXPECT_EQ(HexAddress(0), "0x0");
  EXPECT_EQ(HexAddress(0x7f00dead), "0x7f00dead");
  EXPECT_EQ(HexAddress(~0ull), "0xffffffffffffffff");
}

}  // namespace
}  // namespace jitscope
