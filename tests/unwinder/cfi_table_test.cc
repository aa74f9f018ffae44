// CfiTable: .debug_frame and .eh_frame FDEs found by address and re-encoded
// as a self-contained .eh_frame; malformed sections are survived.
#include "cfi_table.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

namespace jitscope {
namespace {

void U32(std::vector<uint8_t>& v, uint32_t x) {
  size_t at = v.size();
  v.resize(at + 4);
  memcpy(v.data() + at, &x, 4);
}
void U64(std::vector<uint8_t>& v, uint64_t x) {
  size_t at = v.size();
  v.resize(at + 8);
  memcpy(v.data() + at, &x, 8);
}
void Patch(std::vector<uint8_t>& v, size_t at) {
  uint32_t len = static_cast<uint32_t>(v.size() - at - 4);
  memcpy(v.data() + at, &len, 4);
}

// A .debug_frame as our writer makes it: CIE v1 "", code 1, data -8, RA 16,
// DW_CFA_def_cfa rsp+8, DW_CFA_offset rip at cfa-8; then one FDE per range.
std::vector<uint8_t> DebugFrame(const std::vector<std::pair<uint64_t, uint64_t>>& ranges) {
  std::vector<uint8_t> s;
  U32(s, 0);
  U32(s, 0xffffffff);
  s.insert(s.end(), {1, 0, 1, 0x78, 16, 0x0c, 7, 8, 0x90, 1});
  while ((s.size()) % 8) s.push_back(0);
  Patch(s, 0);
  for (auto [start, size] : ranges) {
    size_t at = s.size();
    U32(s, 0);
    U32(s, 0);  // CIE at offset 0
    U64(s, start);
    U64(s, size);
    s.insert(s.end(), {0x41, 0x0e, 16});  // advance 1; def_cfa_offset 16
    while ((s.size() - at) % 8) s.push_back(0);
    Patch(s, at);
  }
  return s;
}

TEST(CfiTable, FindsDebugFrameFdesByAddress) {
  CfiTable t = CfiTable::Parse(DebugFrame({{0x3000, 0x10}, {0x1000, 0x100}}), 0, /*is_eh_frame=*/false);
  ASSERT_EQ(t.size(), 2u);
  ASSERT_NE(t.Find(0x1000), nullptr);
  EXPECT_EQ(t.Find(0x10ff)->start, 0x1000u);
  EXPECT_EQ(t.Find(0x1100), nullptr);
  EXPECT_EQ(t.Find(0xfff), nullptr);
  EXPECT_EQ(t.Find(0x3008)->size, 0x10u);
}

TEST(CfiTable, BuildsAnEhFrameWithAbsolutePointersAndATable) {
  CfiTable t = CfiTable::Parse(DebugFrame({{0x7f0000001000, 0x40}}), 0, false);
  const CfiTable::Fde* fde = t.Find(0x7f0000001010);
  ASSERT_NE(fde, nullptr);
  size_t table = 0;
  std::vector<uint8_t> eh = t.BuildEhFrame(*fde, &table);
  ASSERT_EQ(table % 8, 0u);
  ASSERT_EQ(eh.size(), table + 8);
  // The rebuilt blob is itself a valid .eh_frame: parse it back.
  CfiTable back = CfiTable::Parse(std::vector<uint8_t>(eh.begin(), eh.begin() + static_cast<ptrdiff_t>(table)),
                                  0xffffe00000000000ull, /*is_eh_frame=*/true);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back.Find(0x7f0000001010)->start, 0x7f0000001000u);
  EXPECT_EQ(back.Find(0x7f0000001010)->size, 0x40u);
  int32_t start_offset = 0, fde_offset = 0;
  memcpy(&start_offset, eh.data() + table, 4);
  memcpy(&fde_offset, eh.data() + table + 4, 4);
  EXPECT_EQ(start_offset, 0);
  uint32_t cie_pointer = 0;
  memcpy(&cie_pointer, eh.data() + fde_offset + 4, 4);
  EXPECT_EQ(static_cast<size_t>(fde_offset) + 4 - cie_pointer, 0u);  // back to the CIE at 0
}

TEST(CfiTable, DecodesPcRelativeEhFrame) {
  // CIE "zR" with pcrel|sdata4, FDE at section address 0x5000.
  std::vector<uint8_t> s;
  U32(s, 0);
  U32(s, 0);
  s.insert(s.end(), {1, 'z', 'R', 0, 1, 0x78, 16, 1, 0x1b, 0x0c, 7, 8, 0x90, 1});
  while (s.size() % 4) s.push_back(0);
  Patch(s, 0);
  size_t fde = s.size();
  U32(s, 0);
  U32(s, static_cast<uint32_t>(s.size()));  // back to offset 0
  size_t field = s.size();
  int32_t rel = static_cast<int32_t>(0x9000 - (0x5000 + static_cast<int64_t>(field)));
  U32(s, static_cast<uint32_t>(rel));
  U32(s, 0x20);
  s.push_back(0);  // augmentation length
  while ((s.size() - fde) % 4) s.push_back(0);
  Patch(s, fde);
  U32(s, 0);  // terminator
  CfiTable t = CfiTable::Parse(s, 0x5000, true);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_NE(t.Find(0x9010), nullptr);
  EXPECT_EQ(t.Find(0x9020), nullptr);
}

TEST(CfiTable, SurvivesTruncatedAndRandomSections) {
  std::vector<uint8_t> good = DebugFrame({{0x1000, 0x100}, {0x2000, 0x100}});
  for (size_t n = 0; n < good.size(); n++) {
    CfiTable t = CfiTable::Parse(std::vector<uint8_t>(good.begin(), good.begin() + static_cast<ptrdiff_t>(n)), 0, false);
    EXPECT_LE(t.size(), 2u);
    if (const CfiTable::Fde* f = t.Find(0x1000)) {
      size_t table = 0;
      EXPECT_FALSE(t.BuildEhFrame(*f, &table).empty());
    }
  }
  std::mt19937 random(1234);
  for (int round = 0; round < 2000; round++) {
    std::vector<uint8_t> bytes = good;
    for (int k = 0; k < 4; k++) bytes[random() % bytes.size()] = static_cast<uint8_t>(random());
    CfiTable t = CfiTable::Parse(bytes, 0, round % 2 == 0);
    for (uint64_t pc : {0x1000ull, 0x2050ull, 0ull}) {
      if (const CfiTable::Fde* f = t.Find(pc)) {
        size_t table = 0;
        std::vector<uint8_t> eh = t.BuildEhFrame(*f, &table);
        EXPECT_LE(table + 8, eh.size());
      }
    }
  }
}

TEST(CfiTable, RejectsFdesPointingAtThemselvesAsCie) {
  std::vector<uint8_t> s;
  U32(s, 0);
  U32(s, 0);  // debug_frame FDE whose CIE pointer is 0 = itself
  U64(s, 0x1000);
  U64(s, 0x10);
  Patch(s, 0);
  CfiTable t = CfiTable::Parse(s, 0, false);
  EXPECT_EQ(t.size(), 0u);
}

TEST(CfiTable, RefusesDwarfExpressionsAndUnknownOpcodes) {
  // A backwards DW_OP_skip inside DW_CFA_def_cfa_expression would loop
  // libunwind's evaluator forever.
  for (std::vector<uint8_t> program : {std::vector<uint8_t>{0x0f, 3, 0x2f, 0xfd, 0xff},
                                       std::vector<uint8_t>{0x10, 6, 1, 0x70}, std::vector<uint8_t>{0x3f}}) {
    std::vector<uint8_t> s = DebugFrame({});
    size_t at = s.size();
    U32(s, 0);
    U32(s, 0);
    U64(s, 0x1000);
    U64(s, 0x10);
    s.insert(s.end(), program.begin(), program.end());
    Patch(s, at);
    EXPECT_EQ(CfiTable::Parse(s, 0, false).size(), 0u);
  }
}

}  // namespace
}  // namespace jitscope
