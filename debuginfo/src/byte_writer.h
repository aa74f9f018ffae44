// Appends little-endian fields and LEB128 numbers to a byte vector: the one
// primitive every section writer (ELF, DWARF, .eh_frame) is built from.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace jitscope {

static_assert(std::endian::native == std::endian::little,
              "the writers memcpy host integers into little-endian files");

class ByteWriter {
 public:
  explicit ByteWriter(std::vector<uint8_t>* out) : out_(out) {}

  size_t size() const { return out_->size(); }

  void U8(uint8_t v) { out_->push_back(v); }
  void U16(uint16_t v) { Raw(&v, sizeof(v)); }
  void U32(uint32_t v) { Raw(&v, sizeof(v)); }
  void U64(uint64_t v) { Raw(&v, sizeof(v)); }
  void S32(int32_t v) { Raw(&v, sizeof(v)); }

  // insert, not resize + memcpy: resize zero-fills the new bytes first, and
  // that fill was a third of writing a single-function file.
  void Raw(const void* data, size_t n) {
    const uint8_t* p = static_cast<const uint8_t*>(data);
    out_->insert(out_->end(), p, p + n);
  }

  // Writes the string and its terminating NUL.
  void CString(std::string_view s) {
    Raw(s.data(), s.size());
    U8(0);
  }

  void ULeb128(uint64_t v) {
    do {
      uint8_t byte = v & 0x7f;
      v >>= 7;
      if (v != 0) byte |= 0x80;
      U8(byte);
    } while (v != 0);
  }

  void SLeb128(int64_t v) {
    bool more = true;
    while (more) {
      uint8_t byte = v & 0x7f;
      v >>= 7;  // arithmetic shift: sign bits fill in
      if ((v == 0 && (byte & 0x40) == 0) || (v == -1 && (byte & 0x40) != 0))
        more = false;
      else
        byte |= 0x80;
      U8(byte);
    }
  }

  void PadTo(size_t alignment, uint8_t fill = 0) {
    while (out_->size() % alignment != 0) out_->push_back(fill);
  }

  void Patch32(size_t at, uint32_t v) { std::memcpy(out_->data() + at, &v, sizeof(v)); }
  void Patch64(size_t at, uint64_t v) { std::memcpy(out_->data() + at, &v, sizeof(v)); }

 private:
  std::vector<uint8_t>* out_;
};

}  // namespace jitscope
