// The C API of jitscope/jit_debug.h from C++: bad input is refused with an
// errno-style code and changes nothing; good input reaches the descriptor;
// the packing/compression policy can be set; concurrent use is safe.
#include <cerrno>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "jitscope/jit_debug.h"

namespace jitscope::foreign_jit {
namespace {

// Addresses are only described, never executed: any range will do.
constexpr uint64_t kBase = 0x7f0000100000;
constexpr uint64_t kSize = 32;

struct Sample {
  jit_debug_frame_row rows[JIT_DEBUG_FRAME_PUSH_RBP_ROWS];
  jit_debug_code code;

  explicit Sample(uint64_t address = kBase, const char* name = "sample") {
    int n = jit_debug_frame_push_rbp_mov_rbp(rows, JIT_DEBUG_FRAME_PUSH_RBP_ROWS, 1, 4, 30);
    EXPECT_EQ(n, 4);
    std::memset(&code, 0, sizeof(code));
    code.address = address;
    code.size = kSize;
    code.name = name;
    code.frame_rows = rows;
    code.num_frame_rows = static_cast<size_t>(n);
  }
};

uint64_t Functions(jit_debug_context* ctx) {
  jit_debug_stats s;
  EXPECT_EQ(jit_debug_get_stats(ctx, &s), 0);
  return s.functions;
}

// Adds n functions named prefix0, prefix1, ... at address_of(i) (the context
// copies the names).
template <typename AddressOf>
void AddFunctions(jit_debug_context* ctx, const std::string& prefix, int n, AddressOf address_of) {
  for (int i = 0; i < n; i++) {
    std::string name = prefix + std::to_string(i);
    Sample s(address_of(i), name.c_str());
    ASSERT_EQ(jit_debug_add_code(ctx, &s.code), 0) << name;
  }
}

// A context with default options but packing every `pack_every` new functions.
jit_debug_context* ContextPackingEvery(int pack_every) {
  jit_debug_options options;
  jit_debug_options_init(&options);
  options.pack_every = pack_every;
  return jit_debug_context_create(&options);
}

class CApi : public ::testing::Test {
 protected:
  void SetUp() override { ctx_ = jit_debug_context_create(nullptr); ASSERT_NE(ctx_, nullptr); }
  void TearDown() override { jit_debug_context_destroy(ctx_); }

  // Refused with -EINVAL, and nothing registered.
  void ExpectInvalid(const jit_debug_code& code, const char* what) {
    EXPECT_EQ(jit_debug_add_code(ctx_, &code), -EINVAL) << what;
    EXPECT_EQ(Functions(ctx_), 0u) << what;
  }

  jit_debug_context* ctx_ = nullptr;
};

TEST_F(CApi, NullArgumentsAreRefused) {
  Sample s;
  EXPECT_EQ(jit_debug_add_code(nullptr, &s.code), -EINVAL);
  EXPECT_EQ(jit_debug_add_code(ctx_, nullptr), -EINVAL);
  EXPECT_EQ(jit_debug_remove_code(nullptr, kBase), -EINVAL);
  EXPECT_EQ(jit_debug_set_policy(nullptr, 1, JIT_DEBUG_COMPRESS_OFF), -EINVAL);
  EXPECT_EQ(jit_debug_get_stats(nullptr, nullptr), -EINVAL);
  jit_debug_stats stats;
  EXPECT_EQ(jit_debug_get_stats(nullptr, &stats), -EINVAL);
  EXPECT_EQ(jit_debug_get_stats(ctx_, nullptr), -EINVAL);
  jit_debug_compress_now(nullptr);
  jit_debug_context_destroy(nullptr);
  jit_debug_options_init(nullptr);
  jit_debug_frame_row_init(nullptr, 0);
  EXPECT_EQ(jit_debug_frame_row_save(nullptr, JIT_DEBUG_REG_RBP, -16), -EINVAL);
  EXPECT_EQ(jit_debug_frame_push_rbp_mov_rbp(nullptr, 4, 1, 4, 10), -EINVAL);
  EXPECT_EQ(jit_debug_frame_sub_rsp(nullptr, 3, 4, 24, 10), -EINVAL);

  Sample no_name(kBase, nullptr);
  ExpectInvalid(no_name.code, "NULL name");
  Sample rows_missing;
  rows_missing.code.frame_rows = nullptr;
  ExpectInvalid(rows_missing.code, "NULL rows with a count");
  Sample lines_missing;
  lines_missing.code.num_lines = 2;
  ExpectInvalid(lines_missing.code, "NULL lines with a count");
}

TEST_F(CApi, NonsenseCodeIsRefused) {
  Sample zero_size;
  zero_size.code.size = 0;
  ExpectInvalid(zero_size.code, "zero size");
  Sample zero_address(0);
  ExpectInvalid(zero_address.code, "address 0");
  Sample wraps(~uint64_t{0} - 8);
  ExpectInvalid(wraps.code, "range wraps around");
  Sample huge;
  huge.code.size = uint64_t{1} << 33;
  ExpectInvalid(huge.code, "larger than 4 GiB");
  Sample empty_name(kBase, "");
  ExpectInvalid(empty_name.code, "empty name");
}

TEST_F(CApi, BadFrameRowsAreRefused) {
  Sample unsorted;
  std::swap(unsorted.rows[1], unsorted.rows[2]);
  ExpectInvalid(unsorted.code, "unsorted rows");

  Sample duplicate_offset;
  duplicate_offset.rows[2].code_offset = duplicate_offset.rows[1].code_offset;
  ExpectInvalid(duplicate_offset.code, "two rows at one offset");

  Sample beyond;
  beyond.rows[3].code_offset = kSize;
  ExpectInvalid(beyond.code, "row offset outside the code");

  Sample ra_as_cfa;
  ra_as_cfa.rows[1].cfa_register = JIT_DEBUG_REG_RIP;
  ExpectInvalid(ra_as_cfa.code, "CFA based on the return address column");

  Sample no_such_register;
  no_such_register.rows[1].cfa_register = 200;
  ExpectInvalid(no_such_register.code, "CFA register out of range");

  Sample misaligned_cfa;
  misaligned_cfa.rows[1].cfa_offset = -12;
  ExpectInvalid(misaligned_cfa.code, "negative CFA offset not a multiple of 8");

  Sample positive_slot;
  positive_slot.rows[1].saved[0].cfa_offset = 16;
  ExpectInvalid(positive_slot.code, "register saved above the CFA");

  Sample zero_slot;
  zero_slot.rows[1].saved[0].cfa_offset = 0;
  ExpectInvalid(zero_slot.code, "register saved at the CFA itself");

  Sample misaligned_slot;
  misaligned_slot.rows[1].saved[0].cfa_offset = -20;
  ExpectInvalid(misaligned_slot.code, "slot not a multiple of 8");

  Sample twice;
  twice.rows[1].saved[1] = twice.rows[1].saved[0];
  twice.rows[1].num_saved = 2;
  ExpectInvalid(twice.code, "one register saved twice");

  Sample bad_saved_reg;
  bad_saved_reg.rows[1].saved[0].dwarf_reg = JIT_DEBUG_NUM_REGS;
  ExpectInvalid(bad_saved_reg.code, "saved register out of range");

  Sample too_many;
  too_many.rows[1].num_saved = JIT_DEBUG_MAX_SAVED_REGS + 1;
  ExpectInvalid(too_many.code, "more saved registers than the row holds");

  Sample too_many_rows;
  too_many_rows.code.size = 2;
  ExpectInvalid(too_many_rows.code, "more rows than code bytes");
}

TEST_F(CApi, BadLineTablesAreRefused) {
  jit_debug_line unsorted[] = {{0, 1}, {8, 2}, {4, 3}};
  Sample s;
  s.code.lines = unsorted;
  s.code.num_lines = 3;
  ExpectInvalid(s.code, "unsorted lines");
  jit_debug_line beyond[] = {{0, 1}, {kSize, 2}};
  s.code.lines = beyond;
  s.code.num_lines = 2;
  ExpectInvalid(s.code, "line offset outside the code");
  jit_debug_line good[] = {{0, 1}, {8, 2}};
  s.code.lines = good;
  EXPECT_EQ(jit_debug_add_code(ctx_, &s.code), 0);
}

TEST_F(CApi, DuplicatesUnknownAddressesAndBadPolicyAreRefused) {
  Sample s;
  ASSERT_EQ(jit_debug_add_code(ctx_, &s.code), 0);
  EXPECT_EQ(jit_debug_add_code(ctx_, &s.code), -EEXIST);
  EXPECT_EQ(jit_debug_remove_code(ctx_, kBase + 1), -ENOENT);
  EXPECT_EQ(jit_debug_remove_code(ctx_, kBase), 0);
  EXPECT_EQ(jit_debug_remove_code(ctx_, kBase), -ENOENT);
  EXPECT_EQ(jit_debug_set_policy(ctx_, 1, static_cast<jit_debug_compress>(3)), -EINVAL);

  jit_debug_options bad;
  jit_debug_options_init(&bad);
  bad.compress = static_cast<jit_debug_compress>(3);
  EXPECT_EQ(jit_debug_context_create(&bad), nullptr);
  jit_debug_options_init(&bad);
  bad.range_bits = 64;
  EXPECT_EQ(jit_debug_context_create(&bad), nullptr);
  jit_debug_options_init(&bad);
  bad.pack_every = -1;
  EXPECT_EQ(jit_debug_context_create(&bad), nullptr);
}

TEST(CApiFrameHelpers, DescribeTheStandardShapes) {
  jit_debug_frame_row rows[4];
  ASSERT_EQ(jit_debug_frame_push_rbp_mov_rbp(rows, 4, 1, 4, 17), 4);
  EXPECT_EQ(rows[0].code_offset, 0u);
  EXPECT_EQ(rows[0].cfa_register, JIT_DEBUG_REG_RSP);
  EXPECT_EQ(rows[0].cfa_offset, 8);
  EXPECT_EQ(rows[0].num_saved, 0u);
  EXPECT_EQ(rows[1].code_offset, 1u);
  EXPECT_EQ(rows[1].cfa_offset, 16);
  ASSERT_EQ(rows[1].num_saved, 1u);
  EXPECT_EQ(rows[1].saved[0].dwarf_reg, JIT_DEBUG_REG_RBP);
  EXPECT_EQ(rows[1].saved[0].cfa_offset, -16);
  EXPECT_EQ(rows[2].cfa_register, JIT_DEBUG_REG_RBP);
  EXPECT_EQ(rows[2].cfa_offset, 16);
  EXPECT_EQ(rows[3].code_offset, 17u);
  EXPECT_EQ(rows[3].num_saved, 0u);
  EXPECT_EQ(jit_debug_frame_push_rbp_mov_rbp(rows, 4, 1, 4, 0), 3) << "no epilogue";
  EXPECT_EQ(jit_debug_frame_push_rbp_mov_rbp(rows, 3, 1, 4, 17), -ENOSPC);
  EXPECT_EQ(jit_debug_frame_push_rbp_mov_rbp(rows, 4, 4, 1, 17), -EINVAL);
  EXPECT_EQ(jit_debug_frame_push_rbp_mov_rbp(rows, 4, 1, 4, 3), -EINVAL);

  ASSERT_EQ(jit_debug_frame_sub_rsp(rows, 3, 4, 24, 25), 3);
  EXPECT_EQ(rows[1].code_offset, 4u);
  EXPECT_EQ(rows[1].cfa_offset, 32);
  EXPECT_EQ(rows[2].cfa_offset, 8);
  EXPECT_EQ(jit_debug_frame_sub_rsp(rows, 2, 4, 24, 25), -ENOSPC);
  EXPECT_EQ(jit_debug_frame_sub_rsp(rows, 3, 4, 0, 25), -EINVAL);
  EXPECT_EQ(jit_debug_frame_sub_rsp(rows, 3, 4, 24, 4), -EINVAL);

  jit_debug_frame_row row;
  jit_debug_frame_row_init(&row, 5);
  EXPECT_EQ(jit_debug_frame_row_save(&row, JIT_DEBUG_REG_RBX, -16), 0);
  EXPECT_EQ(jit_debug_frame_row_save(&row, JIT_DEBUG_REG_RBX, -24), -EINVAL) << "saved twice";
  EXPECT_EQ(jit_debug_frame_row_save(&row, JIT_DEBUG_REG_R12, -12), -EINVAL) << "misaligned";
  EXPECT_EQ(jit_debug_frame_row_save(&row, JIT_DEBUG_REG_R12, 8), -EINVAL) << "above the CFA";
  EXPECT_EQ(jit_debug_frame_row_save(&row, 99, -24), -EINVAL) << "no such register";
  EXPECT_EQ(row.num_saved, 1u);
}

// Registered code is in the process's descriptor as an ELF file until removed.
TEST_F(CApi, AddedCodeReachesTheDescriptor) {
  Sample s(kBase + 0x1000, "reaches_descriptor");
  s.code.source_file = "x.jit";
  s.code.first_line = 3;
  uint32_t seqlock_before = __atomic_load_n(&__jit_debug_descriptor.seqlock, __ATOMIC_ACQUIRE);
  ASSERT_EQ(jit_debug_add_code(ctx_, &s.code), 0);
  jit_code_entry* head = __atomic_load_n(&__jit_debug_descriptor.first_entry, __ATOMIC_ACQUIRE);
  ASSERT_NE(head, nullptr);
  ASSERT_GE(head->symfile_size, 4u);
  EXPECT_EQ(std::memcmp(head->symfile_addr, "\177ELF", 4), 0);
  EXPECT_GT(__jit_debug_descriptor.seqlock, seqlock_before);
  jit_debug_stats stats;
  ASSERT_EQ(jit_debug_get_stats(ctx_, &stats), 0);
  EXPECT_EQ(stats.functions, 1u);
  EXPECT_EQ(stats.entries, 1u);
  EXPECT_GT(stats.unpacked_bytes, 0u);
  ASSERT_EQ(jit_debug_remove_code(ctx_, s.code.address), 0);
  ASSERT_EQ(jit_debug_get_stats(ctx_, &stats), 0);
  EXPECT_EQ(stats.entries, 0u);
}

TEST(CApiPolicy, PacksCompressesAndFollowsPolicyChanges) {
  jit_debug_context* ctx = ContextPackingEvery(4);
  ASSERT_NE(ctx, nullptr);
  AddFunctions(ctx, "packed_", 8, [](int i) { return kBase + 0x20000 + static_cast<uint64_t>(i) * 64; });
  jit_debug_stats stats;
  ASSERT_EQ(jit_debug_get_stats(ctx, &stats), 0);
  EXPECT_EQ(stats.functions, 8u);
  EXPECT_GT(stats.packs, 0u);
  EXPECT_EQ(stats.entries, 1u) << "one 64 KiB range packs into one entry";
  EXPECT_GT(stats.packed_bytes, 0u);

  ASSERT_EQ(jit_debug_remove_code(ctx, kBase + 0x20000), 0);
  ASSERT_EQ(jit_debug_set_policy(ctx, 1, JIT_DEBUG_COMPRESS_ALWAYS), 0);
  jit_debug_compress_now(ctx);
  ASSERT_EQ(jit_debug_get_stats(ctx, &stats), 0);
  EXPECT_EQ(stats.functions, 7u);
  EXPECT_GT(stats.compressions, 0u);
  EXPECT_GT(stats.compressed_bytes, 0u);
  EXPECT_EQ(stats.packed_bytes, 0u);

  // Packing off: new code stays in single entries however much is added.
  ASSERT_EQ(jit_debug_set_policy(ctx, 0, JIT_DEBUG_COMPRESS_OFF), 0);
  uint64_t packs_before = stats.packs;
  AddFunctions(ctx, "single_", 8, [](int i) { return kBase + 0x40000 + static_cast<uint64_t>(i) * 64; });
  ASSERT_EQ(jit_debug_get_stats(ctx, &stats), 0);
  EXPECT_EQ(stats.packs, packs_before);
  EXPECT_EQ(stats.entries, 9u);
  jit_debug_context_destroy(ctx);
}

TEST(CApiPolicy, RemoveAllCodeEmptiesTheDescriptorAndTheContextStaysUsable) {
  jit_debug_context* ctx = ContextPackingEvery(4);
  ASSERT_NE(ctx, nullptr);
  jit_code_entry* head_before = __atomic_load_n(&__jit_debug_descriptor.first_entry, __ATOMIC_ACQUIRE);
  // Two 64 KiB ranges: 6 packed into each range's entry, and 2 singles after the last pack.
  AddFunctions(ctx, "all_", 14, [](int i) {
    return kBase + 0x60000 + static_cast<uint64_t>(i % 2) * 0x10000 + static_cast<uint64_t>(i) * 64;
  });
  jit_debug_stats stats;
  ASSERT_EQ(jit_debug_get_stats(ctx, &stats), 0);
  ASSERT_EQ(stats.functions, 14u);
  ASSERT_GT(stats.packs, 0u);
  ASSERT_GT(stats.entries, 2u) << "packed groups and the singles added since";
  uint32_t seqlock_before = __atomic_load_n(&__jit_debug_descriptor.seqlock, __ATOMIC_ACQUIRE);

  ASSERT_EQ(jit_debug_remove_all_code(ctx), 0);
  ASSERT_EQ(jit_debug_get_stats(ctx, &stats), 0);
  EXPECT_EQ(stats.functions, 0u);
  EXPECT_EQ(stats.entries, 0u);
  EXPECT_EQ(stats.unpacked_bytes + stats.packed_bytes + stats.compressed_bytes, 0u);
  EXPECT_EQ(__atomic_load_n(&__jit_debug_descriptor.first_entry, __ATOMIC_ACQUIRE), head_before)
      << "every entry of this context is unlinked";
  uint32_t seqlock_after = __atomic_load_n(&__jit_debug_descriptor.seqlock, __ATOMIC_ACQUIRE);
  EXPECT_GT(seqlock_after, seqlock_before);
  EXPECT_EQ(seqlock_after % 2, 0u) << "not left mid-change";
  EXPECT_EQ(jit_debug_remove_code(ctx, kBase + 0x60000), -ENOENT) << "forgotten";
  EXPECT_EQ(jit_debug_remove_all_code(nullptr), -EINVAL);

  // Usable again: the same addresses register anew.
  Sample again(kBase + 0x60000, "again");
  ASSERT_EQ(jit_debug_add_code(ctx, &again.code), 0);
  ASSERT_EQ(jit_debug_get_stats(ctx, &stats), 0);
  EXPECT_EQ(stats.functions, 1u);
  EXPECT_EQ(stats.entries, 1u);
  jit_debug_context_destroy(ctx);
}

TEST(CApiThreads, ConcurrentAddAndRemoveFromManyThreads) {
  jit_debug_context* ctx = ContextPackingEvery(16);
  ASSERT_NE(ctx, nullptr);
  constexpr int kThreads = 4;
  constexpr int kCodes = 150;
  std::vector<std::thread> threads;
  std::vector<int> failures(kThreads, 0);
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([ctx, t, &failures] {
      std::string name;
      for (int i = 0; i < kCodes; i++) {
        uint64_t address = kBase + 0x100000 + static_cast<uint64_t>(t) * 0x10000 + static_cast<uint64_t>(i) * 64;
        name = "t" + std::to_string(t) + "_" + std::to_string(i);
        Sample s(address, name.c_str());
        if (jit_debug_add_code(ctx, &s.code) != 0) failures[t]++;
        if (i % 3 == 2 && jit_debug_remove_code(ctx, address - 64) != 0) failures[t]++;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int t = 0; t < kThreads; t++) EXPECT_EQ(failures[t], 0) << "thread " << t;
  jit_debug_stats stats;
  ASSERT_EQ(jit_debug_get_stats(ctx, &stats), 0);
  EXPECT_EQ(stats.functions, static_cast<uint64_t>(kThreads * (kCodes - kCodes / 3)));
  jit_debug_context_destroy(ctx);
}

}  // namespace
}  // namespace jitscope::foreign_jit
