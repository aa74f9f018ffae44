// The one way readers touch another address space (see DESIGN.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
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

}  // namespace jitscope
