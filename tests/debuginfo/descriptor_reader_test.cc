// The reader against fabricated target memory: every variant, and every way
// a target can lie (loops, bad pointers, sizes, endless changes, torn reads).
#include "debuginfo/descriptor_reader.h"

#include <gtest/gtest.h>

#include <cstring>
#include <functional>

#include "jitscope/jit_debug.h"

namespace jitscope {
namespace {

constexpr uint64_t kBase = 0x10000;
constexpr uint64_t kDescriptor = kBase;
constexpr uint64_t kFirstEntry = kBase + 0x100;
constexpr uint64_t kEntryStride = 0x40;
constexpr uint64_t kSymfiles = kBase + 0x1000;

// Builds a target image: descriptor at kDescriptor, entry i at
// kFirstEntry + i * kEntryStride, symfile i at kSymfiles + i * 0x100.
class FakeTarget {
 public:
  explicit FakeTarget(DescriptorVariant variant = DescriptorVariant::kAndroid2) : variant_(variant) {
    memory_.bytes().resize(0x2000);
    Put32(kDescriptor + 0, 1);  // version
    if (variant != DescriptorVariant::kGdbV1) {
      std::memcpy(&memory_.bytes()[24], variant == DescriptorVariant::kAndroid2 ? "Android2" : "Android1", 8);
      Put32(kDescriptor + 36, 56);
      Put32(kDescriptor + 40, variant == DescriptorVariant::kAndroid2 ? 48 : 40);
      Put64(kDescriptor + 48, 1000);  // timestamp
    }
  }

  // Links `count` entries head first; entry i's timestamp is 100 - i.
  void AddEntries(int count) {
    Put64(kDescriptor + 16, count > 0 ? Entry(0) : 0);
    for (int i = 0; i < count; i++) {
      Put64(Entry(i) + 0, i + 1 < count ? Entry(i + 1) : 0);
      Put64(Entry(i) + 8, i > 0 ? Entry(i - 1) : 0);
      Put64(Entry(i) + 16, kSymfiles + i * 0x100);
      Put64(Entry(i) + 24, 0x10 + i);
      std::memset(&memory_.bytes()[kSymfiles + i * 0x100 - kBase], 'a' + i, 0x10 + i);
      if (variant_ != DescriptorVariant::kGdbV1) Put64(Entry(i) + 32, 100 - i);
      if (variant_ == DescriptorVariant::kAndroid2) Put32(Entry(i) + 40, 2);
    }
  }

  static uint64_t Entry(int i) { return kFirstEntry + i * kEntryStride; }
  void Put32(uint64_t addr, uint32_t v) { std::memcpy(&memory_.bytes()[addr - kBase], &v, 4); }
  void Put64(uint64_t addr, uint64_t v) { std::memcpy(&memory_.bytes()[addr - kBase], &v, 8); }
  BufferMemory& memory() { return memory_; }

 private:
  DescriptorVariant variant_;
  BufferMemory memory_{kBase, {}};
};

// Runs a hook before each read; lets a test play the concurrent writer.
class HookedMemory : public Memory {
 public:
  HookedMemory(Memory& inner, std::function<void(int read_index)> hook) : inner_(inner), hook_(std::move(hook)) {}
  size_t Read(uint64_t addr, void* dst, size_t n) override {
    hook_(reads_++);
    return inner_.Read(addr, dst, n);
  }
  int reads() const { return reads_; }

 private:
  Memory& inner_;
  std::function<void(int)> hook_;
  int reads_ = 0;
};

TEST(DescriptorReaderTest, ReadsAndroid2) {
  FakeTarget target;
  target.AddEntries(3);
  target.Put32(kDescriptor + 4, JIT_REGISTER_FN);
  target.Put64(kDescriptor + 8, FakeTarget::Entry(0));
  target.Put32(kDescriptor + 44, 6);
  DescriptorReader reader(target.memory());
  Result<DescriptorSnapshot> snapshot = reader.Read(kDescriptor);
  ASSERT_TRUE(snapshot.ok()) << snapshot.error();
  EXPECT_EQ(snapshot->variant, DescriptorVariant::kAndroid2);
  EXPECT_TRUE(snapshot->synchronized);
  EXPECT_EQ(snapshot->attempts, 1);
  EXPECT_EQ(snapshot->magic, "Android2");
  EXPECT_EQ(snapshot->seqlock, 6u);
  EXPECT_EQ(snapshot->timestamp, 1000u);
  EXPECT_EQ(snapshot->action_flag, 1u);
  EXPECT_EQ(snapshot->relevant_entry, FakeTarget::Entry(0));
  ASSERT_EQ(snapshot->entries.size(), 3u);
  for (int i = 0; i < 3; i++) {
    const JitEntrySnapshot& entry = snapshot->entries[i];
    EXPECT_EQ(entry.address, FakeTarget::Entry(i));
    EXPECT_EQ(entry.symfile_addr, kSymfiles + i * 0x100);
    EXPECT_EQ(entry.symfile_size, 0x10u + i);
    EXPECT_EQ(entry.timestamp, 100u - i);
    EXPECT_EQ(entry.seqlock, 2u);
    EXPECT_TRUE(entry.problem.empty());
  }
  Result<std::vector<uint8_t>> bytes = reader.ReadSymfile(*snapshot, snapshot->entries[2]);
  ASSERT_TRUE(bytes.ok()) << bytes.error();
  EXPECT_EQ(bytes->size(), 0x12u);
  EXPECT_EQ((*bytes)[0], 'c');
}

TEST(DescriptorReaderTest, ReadsAndroid1WithoutEntrySeqlocks) {
  FakeTarget target(DescriptorVariant::kAndroid1);
  target.AddEntries(2);
  DescriptorReader reader(target.memory());
  Result<DescriptorSnapshot> snapshot = reader.Read(kDescriptor);
  ASSERT_TRUE(snapshot.ok()) << snapshot.error();
  EXPECT_EQ(snapshot->variant, DescriptorVariant::kAndroid1);
  ASSERT_EQ(snapshot->entries.size(), 2u);
  EXPECT_EQ(snapshot->entries[1].timestamp, 99u);
  EXPECT_TRUE(reader.ReadSymfile(*snapshot, snapshot->entries[0]).ok());
  // Without entry seqlocks, any descriptor change invalidates the snapshot.
  target.Put32(kDescriptor + 44, 2);
  EXPECT_FALSE(reader.ReadSymfile(*snapshot, snapshot->entries[0]).ok());
}

TEST(DescriptorReaderTest, ReadsPlainGdbDescriptorAtTheEndOfMemory) {
  FakeTarget target(DescriptorVariant::kGdbV1);
  target.AddEntries(2);
  // A 24-byte descriptor as the last bytes of a mapping: the Android
  // extension is unreadable, which must not be an error.
  std::vector<uint8_t> bytes = target.memory().bytes();
  std::vector<uint8_t> shifted(bytes.begin(), bytes.end());
  shifted.insert(shifted.end(), bytes.begin(), bytes.begin() + 24);
  BufferMemory memory(kBase, shifted);
  DescriptorReader reader(memory);
  Result<DescriptorSnapshot> snapshot = reader.Read(kBase + bytes.size());
  ASSERT_TRUE(snapshot.ok()) << snapshot.error();
  EXPECT_EQ(snapshot->variant, DescriptorVariant::kGdbV1);
  EXPECT_FALSE(snapshot->synchronized);
  EXPECT_EQ(snapshot->entries.size(), 2u);
  EXPECT_EQ(snapshot->entries[0].timestamp, 0u);
}

TEST(DescriptorReaderTest, UnknownMagicIsPlainGdb) {
  FakeTarget target(DescriptorVariant::kAndroid2);
  std::memcpy(&target.memory().bytes()[24], "Android9", 8);
  target.AddEntries(1);
  DescriptorReader reader(target.memory());
  Result<DescriptorSnapshot> snapshot = reader.Read(kDescriptor);
  ASSERT_TRUE(snapshot.ok()) << snapshot.error();
  EXPECT_EQ(snapshot->variant, DescriptorVariant::kGdbV1);
}

TEST(DescriptorReaderTest, RejectsUnsupportedVersion) {
  FakeTarget target;
  target.Put32(kDescriptor, 2);
  DescriptorReader reader(target.memory());
  Result<DescriptorSnapshot> snapshot = reader.Read(kDescriptor);
  ASSERT_FALSE(snapshot.ok());
  EXPECT_NE(snapshot.error().find("unsupported version 2"), std::string::npos) << snapshot.error();
  EXPECT_NE(snapshot.error().find("0x10000"), std::string::npos) << "names the address";
}

TEST(DescriptorReaderTest, RejectsNullMisalignedAndUnreadableAddresses) {
  FakeTarget target;
  DescriptorReader reader(target.memory());
  EXPECT_FALSE(reader.Read(0).ok());
  EXPECT_FALSE(reader.Read(kDescriptor + 4).ok());
  Result<DescriptorSnapshot> snapshot = reader.Read(0x900000);
  ASSERT_FALSE(snapshot.ok());
  EXPECT_NE(snapshot.error().find("cannot read descriptor at 0x900000"), std::string::npos) << snapshot.error();
}

TEST(DescriptorReaderTest, RejectsBadStructSizes) {
  FakeTarget target;
  target.Put32(kDescriptor + 40, 40);  // Android2 entries are at least 48
  DescriptorReader reader(target.memory());
  Result<DescriptorSnapshot> snapshot = reader.Read(kDescriptor);
  ASSERT_FALSE(snapshot.ok());
  EXPECT_NE(snapshot.error().find("sizeof_entry 40"), std::string::npos) << snapshot.error();
}

TEST(DescriptorReaderTest, DetectsLoops) {
  FakeTarget target;
  target.AddEntries(3);
  target.Put64(FakeTarget::Entry(2), FakeTarget::Entry(1));  // 0 -> 1 -> 2 -> 1
  DescriptorReader reader(target.memory());
  Result<DescriptorSnapshot> snapshot = reader.Read(kDescriptor);
  ASSERT_FALSE(snapshot.ok());
  EXPECT_NE(snapshot.error().find("loop"), std::string::npos) << snapshot.error();
  EXPECT_NE(snapshot.error().find(HexAddress(FakeTarget::Entry(1))), std::string::npos) << snapshot.error();
}

TEST(DescriptorReaderTest, RejectsDanglingAndMisalignedEntries) {
  FakeTarget target;
  target.AddEntries(2);
  target.Put64(FakeTarget::Entry(1), 0xdead0000);
  DescriptorReader reader(target.memory());
  Result<DescriptorSnapshot> snapshot = reader.Read(kDescriptor);
  ASSERT_FALSE(snapshot.ok());
  EXPECT_NE(snapshot.error().find("cannot read entry 0xdead0000"), std::string::npos) << snapshot.error();

  target.Put64(FakeTarget::Entry(1), FakeTarget::Entry(0) + 3);
  snapshot = reader.Read(kDescriptor);
  ASSERT_FALSE(snapshot.ok());
  EXPECT_NE(snapshot.error().find("misaligned"), std::string::npos) << snapshot.error();
}

TEST(DescriptorReaderTest, EnforcesEntryLimit) {
  FakeTarget target;
  target.AddEntries(10);
  DescriptorReaderLimits limits;
  limits.max_entries = 5;
  DescriptorReader reader(target.memory(), limits);
  Result<DescriptorSnapshot> snapshot = reader.Read(kDescriptor);
  ASSERT_FALSE(snapshot.ok());
  EXPECT_NE(snapshot.error().find("more than 5 entries"), std::string::npos) << snapshot.error();
}

TEST(DescriptorReaderTest, FlagsBadSymfilesButKeepsOtherEntries) {
  FakeTarget target;
  target.AddEntries(3);
  target.Put64(FakeTarget::Entry(0) + 24, 1ull << 40);     // absurd size
  target.Put64(FakeTarget::Entry(1) + 16, 0);              // null symfile
  target.Put64(FakeTarget::Entry(2) + 16, ~0ull - 0x8);    // wraps
  DescriptorReader reader(target.memory());
  Result<DescriptorSnapshot> snapshot = reader.Read(kDescriptor);
  ASSERT_TRUE(snapshot.ok()) << snapshot.error();
  ASSERT_EQ(snapshot->entries.size(), 3u);
  EXPECT_NE(snapshot->entries[0].problem.find("exceeds the limit"), std::string::npos);
  EXPECT_EQ(snapshot->entries[1].problem, "empty symfile");
  EXPECT_NE(snapshot->entries[2].problem.find("wraps"), std::string::npos);
  Result<std::vector<uint8_t>> bytes = reader.ReadSymfile(*snapshot, snapshot->entries[0]);
  ASSERT_FALSE(bytes.ok());
  EXPECT_NE(bytes.error().find(HexAddress(FakeTarget::Entry(0))), std::string::npos) << bytes.error();
}

TEST(DescriptorReaderTest, GivesUpOnAWriterThatNeverFinishes) {
  FakeTarget target;
  target.AddEntries(1);
  target.Put32(kDescriptor + 44, 7);  // odd forever: a crashed writer
  DescriptorReaderLimits limits;
  limits.max_attempts = 5;
  DescriptorReader reader(target.memory(), limits);
  Result<DescriptorSnapshot> snapshot = reader.Read(kDescriptor);
  ASSERT_FALSE(snapshot.ok());
  EXPECT_NE(snapshot.error().find("kept changing during 5 attempts"), std::string::npos) << snapshot.error();
}

TEST(DescriptorReaderTest, RetriesWhenTheListChangesDuringTheWalk) {
  FakeTarget target;
  target.AddEntries(3);
  // After the first header read, a "writer" unregisters the head entry:
  // the first walk sees a mix, the seqlock check must reject it.
  HookedMemory memory(target.memory(), [&](int read_index) {
    if (read_index == 3) {
      target.Put64(kDescriptor + 16, FakeTarget::Entry(1));
      target.Put32(FakeTarget::Entry(0) + 40, 3);
      target.Put32(kDescriptor + 44, 2);
      target.Put64(kDescriptor + 48, 1001);
    }
  });
  DescriptorReader reader(memory);
  Result<DescriptorSnapshot> snapshot = reader.Read(kDescriptor);
  ASSERT_TRUE(snapshot.ok()) << snapshot.error();
  EXPECT_EQ(snapshot->attempts, 2);
  EXPECT_EQ(snapshot->entries.size(), 2u);
  EXPECT_EQ(snapshot->seqlock, 2u);
}

TEST(DescriptorReaderTest, InvalidLinkedEntryIsFatalWhenNothingChanges) {
  FakeTarget target;
  target.AddEntries(2);
  target.Put32(FakeTarget::Entry(1) + 40, 5);  // linked but odd: protocol violation
  DescriptorReader reader(target.memory());
  Result<DescriptorSnapshot> snapshot = reader.Read(kDescriptor);
  ASSERT_FALSE(snapshot.ok());
  EXPECT_NE(snapshot.error().find("invalid (seqlock 5)"), std::string::npos) << snapshot.error();
}

TEST(DescriptorReaderTest, SurvivesGarbage) {
  // Random bytes where a descriptor should be: any outcome but a crash or
  // a hang is fine.
  std::vector<uint8_t> bytes(4096);
  uint64_t state = 12345;
  for (int round = 0; round < 200; round++) {
    for (auto& byte : bytes) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      byte = static_cast<uint8_t>(state >> 56);
    }
    // Mostly-valid headers reach deeper code paths.
    uint32_t version = 1;
    std::memcpy(bytes.data(), &version, 4);
    if (round % 2 == 0) std::memcpy(bytes.data() + 24, "Android2", 8);
    BufferMemory memory(kBase, bytes);
    DescriptorReaderLimits limits;
    limits.max_attempts = 2;
    DescriptorReader reader(memory, limits);
    Result<DescriptorSnapshot> snapshot = reader.Read(kBase);
    if (!snapshot.ok()) {
      EXPECT_FALSE(snapshot.error().empty());
    }
  }
}

}  // namespace
}  // namespace jitscope
