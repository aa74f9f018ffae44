// The one way readers touch another address space (see DESIGN.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

namespace jitscope {

class Memory {
 public:
  virtual ~Memory() = default;

  // Copies up to n bytes at addr into dst and returns how many were copied.
  // May return short (unmapped page, end of buffer); never throws.
  virtual size_t Read(uint64_t addr, void* dst, size_t n) = 0;

  // Keeps reading after short reads; false unless all n bytes arrived.
  bool ReadFully(uint64_t addr, void* dst, size_t n);
  bool Read32(uint64_t addr, uint32_t* value);
  bool Read64(uint64_t addr, uint64_t* value);
  // Reads a NUL-terminated string of at most max_size bytes (excluding the
  // NUL); false if unreadable or unterminated within max_size.
  bool ReadString(uint64_t addr, std::string* out, size_t max_size);
};

// Memory backed by a byte vector placed at `base`; tests use it to feed
// readers torn, cyclic, oversized or truncated data.
class BufferMemory : public Memory {
 public:
  BufferMemory(uint64_t base, std::vector<uint8_t> bytes);

  size_t Read(uint64_t addr, void* dst, size_t n) override;

  uint64_t base() const { return base_; }
  std::vector<uint8_t>& bytes() { return bytes_; }

 private:
  uint64_t base_;
  std::vector<uint8_t> bytes_;
};

// This process's own memory. Reads go through process_vm_readv on our own
// pid so that an unmapped address is a short read, not a SIGSEGV.
class LocalMemory : public Memory {
 public:
  size_t Read(uint64_t addr, void* dst, size_t n) override;
};

// A window [begin, end) of another Memory: reads outside it fail. Readers of
// one region (a symbol file, a stack) cannot wander off.
class RangeMemory : public Memory {
 public:
  RangeMemory(Memory& inner, uint64_t begin, uint64_t end) : inner_(inner), begin_(begin), end_(end) {}
  size_t Read(uint64_t addr, void* dst, size_t n) override;

 private:
  Memory& inner_;
  uint64_t begin_;
  uint64_t end_;
};

// Captured regions of an address space (a snapshot's code bytes, a
// tombstone's stack): non-overlapping, each served at its original address.
class SnapshotMemory : public Memory {
 public:
  // Overlapping regions are rejected (false): a capture is one consistent view.
  bool AddRegion(uint64_t address, std::vector<uint8_t> bytes);
  size_t Read(uint64_t addr, void* dst, size_t n) override;
  const std::map<uint64_t, std::vector<uint8_t>>& regions() const { return regions_; }

 private:
  std::map<uint64_t, std::vector<uint8_t>> regions_;
};

// Reads whole pages of `inner` once and serves later reads of the same page
// from the copy: a list walk over entries packed in the same pages costs one
// system call per page instead of one per entry. The copy is a view from
// *some* moment: callers verify with a seqlock read on the inner Memory, and
// Clear() before every new attempt.
class PageCacheMemory : public Memory {
 public:
  static constexpr uint64_t kPageSize = 4096;
  // Bounds the copy (and a hostile list spread over many pages): 4096 pages = 16 MiB.
  static constexpr size_t kMaxPages = 4096;
  explicit PageCacheMemory(Memory& inner) : inner_(inner) {}
  size_t Read(uint64_t addr, void* dst, size_t n) override;
  void Clear() { pages_.clear(); }

 private:
  struct Page {
    size_t valid = 0;  // bytes readable from the page start (short at a mapping's end)
    std::vector<uint8_t> bytes;
  };
  Memory& inner_;
  std::unordered_map<uint64_t, Page> pages_;
};

}  // namespace jitscope
