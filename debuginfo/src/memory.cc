#include "debuginfo/memory.h"

#include <algorithm>
#include <cstring>

#include "debuginfo/result.h"

namespace jitscope {

std::string HexAddress(uint64_t address) {
  static constexpr char kDigits[] = "0123456789abcdef";
  char buffer[2 + 16];
  int length = 0;
  do {
    buffer[sizeof(buffer) - 1 - length] = kDigits[address & 0xf];
    address >>= 4;
    length++;
  } while (address != 0);
  return "0x" + std::string(buffer + sizeof(buffer) - length, length);
}

bool Memory::ReadFully(uint64_t addr, void* dst, size_t n) {
  if (n == 0) return true;
  if (addr + n < addr) return false;  // wraps around the address space
  auto* out = static_cast<uint8_t*>(dst);
  size_t done = 0;
  while (done < n) {
    size_t got = Read(addr + done, out + done, n - done);
    if (got == 0) return false;
    done += got;
  }
  return true;
}

bool Memory::Read32(uint64_t addr, uint32_t* value) { return ReadFully(addr, value, sizeof(*value)); }

bool Memory::Read64(uint64_t addr, uint64_t* value) { return ReadFully(addr, value, sizeof(*value)); }

bool Memory::ReadString(uint64_t addr, std::string* out, size_t max_size) {
  // Small chunks: a string near the end of a mapping must not fail just
  // because a bigger read would cross into an unmapped page.
  static constexpr size_t kChunk = 64;
  out->clear();
  char chunk[kChunk];
  while (out->size() <= max_size) {
    size_t want = std::min(kChunk, max_size + 1 - out->size());
    size_t got = Read(addr + out->size(), chunk, want);
    if (got == 0) return false;
    const void* nul = std::memchr(chunk, '\0', got);
    if (nul != nullptr) {
      out->append(chunk, static_cast<const char*>(nul) - chunk);
      return true;
    }
    out->append(chunk, got);
  }
  return false;
}

BufferMemory::BufferMemory(uint64_t base, std::vector<uint8_t> bytes) : base_(base), bytes_(std::move(bytes)) {}

size_t BufferMemory::Read(uint64_t addr, void* dst, size_t n) {
  if (addr < base_ || addr - base_ >= bytes_.size()) return 0;
  size_t offset = addr - base_;
  size_t count = std::min(n, bytes_.size() - offset);
  std::memcpy(dst, bytes_.data() + offset, count);
  return count;
}

}  // namespace jitscope
