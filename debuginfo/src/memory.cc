#include "debuginfo/memory.h"

#include <algorithm>
#include <cstring>
#include <iterator>

#include <sys/uio.h>
#include <unistd.h>

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

size_t LocalMemory::Read(uint64_t addr, void* dst, size_t n) {
  if (n == 0) return 0;
  iovec local{dst, n};
  iovec remote{reinterpret_cast<void*>(addr), n};
  ssize_t got = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
  return got > 0 ? static_cast<size_t>(got) : 0;
}

size_t RangeMemory::Read(uint64_t addr, void* dst, size_t n) {
  if (addr < begin_ || addr >= end_) return 0;
  return inner_.Read(addr, dst, std::min<uint64_t>(n, end_ - addr));
}

bool SnapshotMemory::AddRegion(uint64_t address, std::vector<uint8_t> bytes) {
  if (bytes.empty() || address + bytes.size() < address) return false;
  auto next = regions_.lower_bound(address);
  if (next != regions_.end() && next->first < address + bytes.size()) return false;
  if (next != regions_.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second.size() > address) return false;
  }
  regions_.emplace(address, std::move(bytes));
  return true;
}

size_t SnapshotMemory::Read(uint64_t addr, void* dst, size_t n) {
  auto it = regions_.upper_bound(addr);
  if (it == regions_.begin()) return 0;
  --it;
  uint64_t offset = addr - it->first;
  if (offset >= it->second.size()) return 0;
  size_t count = std::min<uint64_t>(n, it->second.size() - offset);
  std::memcpy(dst, it->second.data() + offset, count);
  return count;
}

size_t PageCacheMemory::Read(uint64_t addr, void* dst, size_t n) {
  if (n == 0) return 0;
  uint64_t page = addr & ~(kPageSize - 1);
  auto it = pages_.find(page);
  if (it == pages_.end()) {
    if (pages_.size() >= kMaxPages) return inner_.Read(addr, dst, n);
    Page p;
    p.bytes.resize(kPageSize);
    // A page may be readable only in part (a mapping that ends inside it is
    // impossible, but a Buffer or Snapshot memory can): read what is there.
    while (p.valid < kPageSize) {
      size_t got = inner_.Read(page + p.valid, p.bytes.data() + p.valid, kPageSize - p.valid);
      if (got == 0) break;
      p.valid += got;
    }
    if (p.valid == 0) return inner_.Read(addr, dst, n);  // e.g. starts mid-page in a buffer
    it = pages_.emplace(page, std::move(p)).first;
  }
  uint64_t offset = addr - page;
  if (offset >= it->second.valid) return inner_.Read(addr, dst, n);
  size_t count = std::min<uint64_t>(n, it->second.valid - offset);
  std::memcpy(dst, it->second.bytes.data() + offset, count);
  return count;
}

}  // namespace jitscope
