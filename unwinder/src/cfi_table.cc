#include "cfi_table.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <string>

namespace jitscope {
namespace {

// DWARF 4 section 7.23 and the LSB's .eh_frame pointer encodings.
constexpr uint8_t kPeAbsptr = 0x00;
constexpr uint8_t kPeUleb128 = 0x01;
constexpr uint8_t kPeUdata2 = 0x02;
constexpr uint8_t kPeUdata4 = 0x03;
constexpr uint8_t kPeUdata8 = 0x04;
constexpr uint8_t kPeSleb128 = 0x09;
constexpr uint8_t kPeSdata2 = 0x0a;
constexpr uint8_t kPeSdata4 = 0x0b;
constexpr uint8_t kPeSdata8 = 0x0c;
constexpr uint8_t kPePcrel = 0x10;
constexpr uint8_t kPeOmit = 0xff;
constexpr uint8_t kPeFormatMask = 0x0f;
constexpr uint8_t kPeApplicationMask = 0x70;
constexpr uint8_t kPeIndirect = 0x80;

constexpr uint32_t kDebugFrameCieId = 0xffffffff;
constexpr uint32_t kDwarf64Escape = 0xffffffff;
constexpr uint8_t kCfaNop = 0x00;
// Version 1 keeps the return-address column in one byte; 3 makes it ULEB128.
constexpr uint8_t kEhCieVersion1 = 1;
constexpr uint8_t kEhCieVersion3 = 3;
constexpr size_t kAlignment = 8;
// A CIE's augmentation string is a few letters; longer is garbage.
constexpr size_t kMaxAugmentation = 16;

class Reader {
 public:
  Reader(const std::vector<uint8_t>& data, size_t pos, size_t end) : data_(data), pos_(pos), end_(end) {}
  bool ok() const { return ok_; }
  size_t pos() const { return pos_; }
  void Seek(size_t pos) {
    if (pos > end_) ok_ = false;
    pos_ = std::min(pos, end_);
  }
  template <typename T>
  T Fixed() {
    T v{};
    if (end_ - pos_ < sizeof(T)) {
      ok_ = false;
      pos_ = end_;
      return v;
    }
    memcpy(&v, data_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  uint64_t ULeb() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      uint8_t b = Fixed<uint8_t>();
      if (!ok_) return 0;
      v |= uint64_t{b & 0x7fu} << shift;
      if ((b & 0x80) == 0) return v;
    }
    ok_ = false;
    return 0;
  }
  int64_t SLeb() {
    uint64_t v = 0;
    int shift = 0;
    uint8_t b = 0;
    do {
      if (shift >= 64) {
        ok_ = false;
        return 0;
      }
      b = Fixed<uint8_t>();
      if (!ok_) return 0;
      v |= uint64_t{b & 0x7fu} << shift;
      shift += 7;
    } while (b & 0x80);
    if (shift < 64 && (b & 0x40)) v |= ~uint64_t{0} << shift;
    return static_cast<int64_t>(v);
  }
  // An encoded pointer; nullopt for encodings we cannot resolve offline
  // (indirect, datarel/textrel/funcrel, aligned).
  std::optional<uint64_t> Pointer(uint8_t encoding, uint64_t section_address) {
    if (encoding == kPeOmit) return std::nullopt;
    uint64_t field_address = section_address + pos_;
    uint64_t v = 0;
    switch (encoding & kPeFormatMask) {
      case kPeAbsptr: v = Fixed<uint64_t>(); break;
      case kPeUleb128: v = ULeb(); break;
      case kPeUdata2: v = Fixed<uint16_t>(); break;
      case kPeUdata4: v = Fixed<uint32_t>(); break;
      case kPeUdata8: v = Fixed<uint64_t>(); break;
      case kPeSleb128: v = static_cast<uint64_t>(SLeb()); break;
      case kPeSdata2: v = static_cast<uint64_t>(int64_t{Fixed<int16_t>()}); break;
      case kPeSdata4: v = static_cast<uint64_t>(int64_t{Fixed<int32_t>()}); break;
      case kPeSdata8: v = Fixed<uint64_t>(); break;
      default: ok_ = false; return std::nullopt;
    }
    if (!ok_ || (encoding & kPeIndirect)) return std::nullopt;
    switch (encoding & kPeApplicationMask) {
      case 0: return v;
      case kPePcrel: return v + field_address;
      default: return std::nullopt;
    }
  }

 private:
  const std::vector<uint8_t>& data_;
  size_t pos_;
  size_t end_;
  bool ok_ = true;
};

void PutU32(std::vector<uint8_t>& out, size_t at, uint32_t v) { memcpy(out.data() + at, &v, sizeof(v)); }
template <typename T>
void Append(std::vector<uint8_t>& out, T v) {
  size_t at = out.size();
  out.resize(at + sizeof(T));
  memcpy(out.data() + at, &v, sizeof(T));
}
void AppendULeb(std::vector<uint8_t>& out, uint64_t v) {
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    out.push_back(static_cast<uint8_t>(b | (v ? 0x80 : 0)));
  } while (v);
}
void AppendSLeb(std::vector<uint8_t>& out, int64_t v) {
  bool more = true;
  while (more) {
    uint8_t b = v & 0x7f;
    v >>= 7;
    more = !((v == 0 && !(b & 0x40)) || (v == -1 && (b & 0x40)));
    out.push_back(static_cast<uint8_t>(b | (more ? 0x80 : 0)));
  }
}
// Pads an entry that started at `entry` with DW_CFA_nop so its total size
// is a multiple of 8, then patches its length field.
void FinishEntry(std::vector<uint8_t>& out, size_t entry) {
  while ((out.size() - entry) % kAlignment != 0) out.push_back(kCfaNop);
  PutU32(out, entry, static_cast<uint32_t>(out.size() - entry - sizeof(uint32_t)));
}

// Whether a CFA program is one we let libunwind run. DWARF expressions are
// refused: libunwind evaluates them without an iteration bound, so a
// DW_OP_skip backwards in a hostile symbol file would hang us, and no JIT we
// read (ours, LLVM's) uses them. Unknown opcodes are refused too.
bool ProgramIsSafe(const std::vector<uint8_t>& data, size_t offset, size_t size) {
  Reader r(data, offset, offset + size);
  while (r.ok() && r.pos() < offset + size) {
    uint8_t op = r.Fixed<uint8_t>();
    switch (op & 0xc0) {
      case 0x40: continue;                   // advance_loc
      case 0x80: r.ULeb(); continue;         // offset
      case 0xc0: continue;                   // restore
    }
    switch (op) {
      case 0x00: case 0x0a: case 0x0b: break;             // nop, remember/restore_state
      case 0x01: r.Fixed<uint64_t>(); break;              // set_loc (8-byte absolute address)
      case 0x02: r.Fixed<uint8_t>(); break;               // advance_loc1
      case 0x03: r.Fixed<uint16_t>(); break;              // advance_loc2
      case 0x04: r.Fixed<uint32_t>(); break;              // advance_loc4
      case 0x05: case 0x09: case 0x0c: case 0x14: case 0x2f: r.ULeb(); r.ULeb(); break;
      case 0x06: case 0x07: case 0x08: case 0x0d: case 0x0e: case 0x2e: r.ULeb(); break;
      case 0x11: case 0x12: case 0x15: r.ULeb(); r.SLeb(); break;
      case 0x13: r.SLeb(); break;                         // def_cfa_offset_sf
      default: return false;                              // expressions (0x0f, 0x10, 0x16) and unknown
    }
  }
  return r.ok();
}

}  // namespace

std::optional<CfiTable::Cie> CfiTable::ParseCie(size_t offset, size_t end) const {
  Reader r(section_, offset, end);
  Cie cie;
  uint8_t version = r.Fixed<uint8_t>();
  if (version != 1 && version != 3 && version != 4) return std::nullopt;
  std::string augmentation;
  for (;;) {
    char c = static_cast<char>(r.Fixed<uint8_t>());
    if (!r.ok() || augmentation.size() > kMaxAugmentation) return std::nullopt;
    if (c == 0) break;
    augmentation.push_back(c);
  }
  if (!augmentation.empty() && augmentation[0] != 'z') return std::nullopt;  // "eh" and other ancient forms
  if (version == 4) {
    cie.address_size = r.Fixed<uint8_t>();
    if (r.Fixed<uint8_t>() != 0) return std::nullopt;  // segment selectors
  }
  cie.code_alignment = r.ULeb();
  cie.data_alignment = r.SLeb();
  cie.return_address_register = version == 1 ? r.Fixed<uint8_t>() : r.ULeb();
  cie.fde_encoding = is_eh_frame_ ? kPeAbsptr : kPeUdata8;
  if (cie.address_size != 8) return std::nullopt;
  if (!augmentation.empty()) {
    cie.has_augmentation_data = true;
    uint64_t length = r.ULeb();
    size_t data_end = r.pos() + length;
    if (!r.ok() || length > end - r.pos()) return std::nullopt;
    for (size_t i = 1; i < augmentation.size(); i++) {
      switch (augmentation[i]) {
        case 'R': cie.fde_encoding = r.Fixed<uint8_t>(); break;
        case 'L': r.Fixed<uint8_t>(); break;  // LSDA: unwinding does not need it
        case 'P': {
          uint8_t encoding = r.Fixed<uint8_t>();
          // Its value does not matter here, only its size; indirect and
          // data-relative personalities still have a decodable size.
          (void)r.Pointer(static_cast<uint8_t>(encoding & (kPeFormatMask | kPePcrel)), section_address_);
          break;
        }
        case 'S': cie.signal_frame = true; break;
        case 'B': break;  // AArch64 BTI: no data
        default: i = augmentation.size(); break;  // unknown: the length lets us skip the rest
      }
    }
    r.Seek(data_end);
  }
  if (!r.ok()) return std::nullopt;
  cie.program_offset = r.pos();
  cie.program_size = end - r.pos();
  if (!ProgramIsSafe(section_, cie.program_offset, cie.program_size)) return std::nullopt;
  return cie;
}

CfiTable CfiTable::Parse(std::vector<uint8_t> section, uint64_t section_address, bool is_eh_frame) {
  CfiTable t;
  t.section_ = std::move(section);
  t.section_address_ = section_address;
  t.is_eh_frame_ = is_eh_frame;
  std::map<size_t, size_t> cie_index;  // section offset -> cies_ index, or SIZE_MAX if malformed
  const std::vector<uint8_t>& s = t.section_;
  size_t pos = 0;
  while (pos + 2 * sizeof(uint32_t) <= s.size() && t.fdes_.size() < kMaxFdes) {
    uint32_t length = 0;
    memcpy(&length, s.data() + pos, sizeof(length));
    if (length == 0) {  // .eh_frame terminator (or padding)
      if (is_eh_frame) break;
      pos += sizeof(uint32_t);
      continue;
    }
    if (length == kDwarf64Escape || length > s.size() - pos - sizeof(uint32_t)) break;  // 64-bit DWARF or truncated
    size_t entry_end = pos + sizeof(uint32_t) + length;
    size_t id_pos = pos + sizeof(uint32_t);
    uint32_t id = 0;
    memcpy(&id, s.data() + id_pos, sizeof(id));
    bool is_cie = is_eh_frame ? id == 0 : id == kDebugFrameCieId;
    size_t body = id_pos + sizeof(uint32_t);
    if (!is_cie) {
      size_t cie_pos;
      if (is_eh_frame) {
        if (id > id_pos) {
          pos = entry_end;
          continue;
        }
        cie_pos = id_pos - id;
      } else {
        cie_pos = id;
      }
      auto found = cie_index.find(cie_pos);
      if (found == cie_index.end()) {
        size_t parsed = SIZE_MAX;
        uint32_t cie_length = 0;
        if (cie_pos + 2 * sizeof(uint32_t) <= s.size()) {
          memcpy(&cie_length, s.data() + cie_pos, sizeof(cie_length));
          if (cie_length != kDwarf64Escape && cie_length >= sizeof(uint32_t) &&
              cie_length <= s.size() - cie_pos - sizeof(uint32_t)) {
            std::optional<Cie> cie =
                t.ParseCie(cie_pos + 2 * sizeof(uint32_t), cie_pos + sizeof(uint32_t) + cie_length);
            if (cie) {
              parsed = t.cies_.size();
              t.cies_.push_back(*cie);
            }
          }
        }
        found = cie_index.emplace(cie_pos, parsed).first;
      }
      if (found->second != SIZE_MAX) {
        const Cie& cie = t.cies_[found->second];
        Reader r(s, body, entry_end);
        std::optional<uint64_t> start = r.Pointer(cie.fde_encoding, section_address);
        std::optional<uint64_t> range = r.Pointer(cie.fde_encoding & kPeFormatMask, section_address);
        if (cie.has_augmentation_data) r.Seek(r.pos() + r.ULeb());
        if (r.ok() && start && range && *range != 0 && *start + *range > *start &&
            ProgramIsSafe(s, r.pos(), entry_end - r.pos())) {
          Fde fde;
          fde.start = *start;
          fde.size = *range;
          fde.cie = found->second;
          fde.program_offset = r.pos();
          fde.program_size = entry_end - r.pos();
          t.fdes_.push_back(fde);
        }
      }
    }
    pos = entry_end;
  }
  std::stable_sort(t.fdes_.begin(), t.fdes_.end(), [](const Fde& a, const Fde& b) { return a.start < b.start; });
  return t;
}

const CfiTable::Fde* CfiTable::Find(uint64_t pc) const {
  auto it = std::upper_bound(fdes_.begin(), fdes_.end(), pc, [](uint64_t v, const Fde& f) { return v < f.start; });
  if (it == fdes_.begin()) return nullptr;
  --it;
  return pc - it->start < it->size ? &*it : nullptr;
}

std::vector<uint8_t> CfiTable::BuildEhFrame(const Fde& fde, size_t* table_offset) const {
  const Cie& cie = cies_[fde.cie];
  std::vector<uint8_t> out;
  size_t cie_at = out.size();
  Append<uint32_t>(out, 0);  // length
  Append<uint32_t>(out, 0);  // CIE id of .eh_frame
  bool wide_ra = cie.return_address_register > 0xff;
  out.push_back(wide_ra ? kEhCieVersion3 : kEhCieVersion1);
  const char* augmentation = cie.signal_frame ? "zRS" : "zR";
  out.insert(out.end(), augmentation, augmentation + strlen(augmentation) + 1);
  AppendULeb(out, cie.code_alignment);
  AppendSLeb(out, cie.data_alignment);
  if (wide_ra)
    AppendULeb(out, cie.return_address_register);
  else
    out.push_back(static_cast<uint8_t>(cie.return_address_register));
  AppendULeb(out, 1);  // augmentation data: the R byte
  out.push_back(kPeAbsptr);
  out.insert(out.end(), section_.begin() + static_cast<ptrdiff_t>(cie.program_offset),
             section_.begin() + static_cast<ptrdiff_t>(cie.program_offset + cie.program_size));
  FinishEntry(out, cie_at);

  size_t fde_at = out.size();
  Append<uint32_t>(out, 0);
  Append<uint32_t>(out, static_cast<uint32_t>(out.size() - cie_at));  // back to the CIE from this field
  Append<uint64_t>(out, fde.start);
  Append<uint64_t>(out, fde.size);
  AppendULeb(out, 0);  // no augmentation data
  out.insert(out.end(), section_.begin() + static_cast<ptrdiff_t>(fde.program_offset),
             section_.begin() + static_cast<ptrdiff_t>(fde.program_offset + fde.program_size));
  FinishEntry(out, fde_at);
  Append<uint32_t>(out, 0);  // terminator, for readers that walk the section

  while (out.size() % kAlignment != 0) out.push_back(0);
  *table_offset = out.size();
  Append<int32_t>(out, 0);  // start_ip_offset: the FDE starts the table's range
  Append<int32_t>(out, static_cast<int32_t>(fde_at));
  return out;
}

}  // namespace jitscope
