#include "debuginfo/jit_descriptor_writer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <vector>

#include "debuginfo/descriptor_reader.h"
#include "jitscope/jit_debug.h"
#include "jitscope/jit_debug_api.h"
#include "local_memory.h"

namespace jitscope {
namespace {

std::atomic<int> g_notifications{0};
void CountNotification() { g_notifications++; }

class WriterTest : public ::testing::Test {
 protected:
  void SetUp() override { g_notifications = 0; }

  // The list as a reader would walk it.
  std::vector<jit_code_entry*> List() {
    std::vector<jit_code_entry*> list;
    for (jit_code_entry* e = descriptor_.first_entry; e != nullptr; e = e->next) list.push_back(e);
    return list;
  }

  void ExpectWellFormed() {
    EXPECT_EQ(descriptor_.seqlock % 2, 0u) << "descriptor seqlock must be even at rest";
    jit_code_entry* prev = nullptr;
    for (jit_code_entry* e : List()) {
      EXPECT_EQ(e->prev, prev);
      EXPECT_EQ(e->seqlock % 2, 0u) << "linked entries are valid";
      if (prev != nullptr) {
        EXPECT_GT(prev->timestamp, e->timestamp) << "head is the newest";
      }
      prev = e;
    }
  }

  jit_descriptor descriptor_ = JitDescriptorWriter::InitDescriptor();
  void (*notify_)(void) = CountNotification;
  JitDescriptorWriter writer_{&descriptor_, &notify_};
  char files_[4][100] = {};
};

TEST_F(WriterTest, InitialDescriptorIsAndroid2AtRest) {
  EXPECT_EQ(descriptor_.version, 1u);
  EXPECT_EQ(std::memcmp(descriptor_.magic, "Android2", 8), 0);
  EXPECT_EQ(descriptor_.sizeof_descriptor, 56u);
  EXPECT_EQ(descriptor_.sizeof_entry, 48u);
  EXPECT_EQ(descriptor_.seqlock, 0u);
  EXPECT_EQ(descriptor_.first_entry, nullptr);
}

TEST_F(WriterTest, RegisterLinksAtHeadAndNotifies) {
  jit_code_entry* a = writer_.Register(files_[0], 10);
  jit_code_entry* b = writer_.Register(files_[1], 20);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(List(), (std::vector<jit_code_entry*>{b, a}));
  EXPECT_EQ(b->symfile_addr, files_[1]);
  EXPECT_EQ(b->symfile_size, 20u);
  EXPECT_EQ(descriptor_.action_flag, static_cast<uint32_t>(JIT_REGISTER_FN));
  EXPECT_EQ(descriptor_.relevant_entry, b);
  EXPECT_EQ(descriptor_.timestamp, b->timestamp);
  EXPECT_EQ(descriptor_.seqlock, 4u) << "two changes, each odd then even";
  EXPECT_EQ(g_notifications, 2);
  ExpectWellFormed();
}

TEST_F(WriterTest, UnregisterHeadMiddleAndTail) {
  jit_code_entry* e[4];
  for (int i = 0; i < 4; i++) e[i] = writer_.Register(files_[i], 10);
  ASSERT_TRUE(writer_.Unregister(e[2]));  // middle
  EXPECT_EQ(List(), (std::vector<jit_code_entry*>{e[3], e[1], e[0]}));
  EXPECT_EQ(e[2]->seqlock % 2, 1u) << "unlinked entries are invalid";
  EXPECT_EQ(descriptor_.action_flag, static_cast<uint32_t>(JIT_UNREGISTER_FN));
  EXPECT_EQ(descriptor_.relevant_entry, e[2]);
  ExpectWellFormed();
  ASSERT_TRUE(writer_.Unregister(e[3]));  // head
  ASSERT_TRUE(writer_.Unregister(e[0]));  // tail
  EXPECT_EQ(List(), (std::vector<jit_code_entry*>{e[1]}));
  ExpectWellFormed();
  ASSERT_TRUE(writer_.Unregister(e[1]));
  EXPECT_EQ(descriptor_.first_entry, nullptr);
  EXPECT_EQ(writer_.live_count(), 0u);
  EXPECT_EQ(g_notifications, 8);
}

TEST_F(WriterTest, RejectsBadRegistrationsWithoutTouchingTheDescriptor) {
  EXPECT_EQ(writer_.Register(nullptr, 10), nullptr);
  EXPECT_EQ(writer_.Register(files_[0], 0), nullptr);
  jit_code_entry* a = writer_.Register(files_[0], 10);
  ASSERT_TRUE(writer_.Unregister(a));
  uint32_t seqlock = descriptor_.seqlock;
  EXPECT_FALSE(writer_.Unregister(a)) << "double unregister";
  EXPECT_FALSE(writer_.Unregister(nullptr));
  jit_code_entry stranger{};
  EXPECT_FALSE(writer_.Unregister(&stranger));
  EXPECT_EQ(descriptor_.seqlock, seqlock);
  EXPECT_EQ(g_notifications, 2);
}

TEST_F(WriterTest, TimestampsStrictlyIncrease) {
  uint64_t last = 0;
  for (int i = 0; i < 1000; i++) {
    jit_code_entry* e = writer_.Register(files_[0], 10);
    EXPECT_GT(e->timestamp, last);
    EXPECT_EQ(descriptor_.timestamp, e->timestamp);
    last = e->timestamp;
    ASSERT_TRUE(writer_.Unregister(e));
    EXPECT_GT(descriptor_.timestamp, last);
    last = descriptor_.timestamp;
  }
}

TEST_F(WriterTest, FreeListRecyclesEntries) {
  jit_code_entry* a = writer_.Register(files_[0], 10);
  EXPECT_EQ(a->seqlock, 2u) << "starts at 1 (invalid), valid once linked";
  size_t free_before = writer_.free_count();
  ASSERT_TRUE(writer_.Unregister(a));
  EXPECT_EQ(a->seqlock, 3u);
  EXPECT_EQ(writer_.free_count(), free_before + 1);
  jit_code_entry* b = writer_.Register(files_[1], 20);
  EXPECT_EQ(b, a) << "the freed entry is reused, never released";
  EXPECT_EQ(b->seqlock, 4u) << "a recycled entry gets a new seqlock value";
  EXPECT_EQ(b->symfile_addr, files_[1]);
}

TEST_F(WriterTest, ManyEntriesSpanChunks) {
  std::vector<jit_code_entry*> entries;
  for (int i = 0; i < 300; i++) entries.push_back(writer_.Register(files_[i % 4], 10 + i));
  EXPECT_EQ(List().size(), 300u);
  ExpectWellFormed();
  for (size_t i = 0; i < entries.size(); i += 2) ASSERT_TRUE(writer_.Unregister(entries[i]));
  EXPECT_EQ(List().size(), 150u);
  ExpectWellFormed();
}

TEST_F(WriterTest, ReaderSeesWhatWasWritten) {
  jit_code_entry* a = writer_.Register(files_[0], 10);
  jit_code_entry* b = writer_.Register(files_[1], 20);
  AtomicLocalMemory memory;
  DescriptorReader reader(memory);
  Result<DescriptorSnapshot> snapshot = reader.Read(reinterpret_cast<uint64_t>(&descriptor_));
  ASSERT_TRUE(snapshot.ok()) << snapshot.error();
  EXPECT_EQ(snapshot->variant, DescriptorVariant::kAndroid2);
  EXPECT_TRUE(snapshot->synchronized);
  ASSERT_EQ(snapshot->entries.size(), 2u);
  EXPECT_EQ(snapshot->entries[0].address, reinterpret_cast<uint64_t>(b));
  EXPECT_EQ(snapshot->entries[1].address, reinterpret_cast<uint64_t>(a));
  EXPECT_EQ(snapshot->entries[1].symfile_size, 10u);
  std::memcpy(files_[1], "hello", 6);
  Result<std::vector<uint8_t>> bytes = reader.ReadSymfile(*snapshot, snapshot->entries[0]);
  ASSERT_TRUE(bytes.ok()) << bytes.error();
  EXPECT_STREQ(reinterpret_cast<const char*>(bytes->data()), "hello");
  // R4: once unregistered (and maybe recycled) the old snapshot's entry is stale.
  ASSERT_TRUE(writer_.Unregister(b));
  EXPECT_FALSE(reader.ReadSymfile(*snapshot, snapshot->entries[0]).ok());
}

// The process-wide symbols and C API.
TEST(JitDebugApiTest, GlobalSymbolsAndCApi) {
  EXPECT_EQ(__jit_debug_register_code_ptr, &__jit_debug_register_code);
  EXPECT_EQ(std::memcmp(__jit_debug_descriptor.magic, "Android2", 8), 0);

  // Tools may redirect the pointer; the writer must call through it.
  void (*saved)(void) = __jit_debug_register_code_ptr;
  __jit_debug_register_code_ptr = CountNotification;
  g_notifications = 0;
  static const char kFile[] = "\x7f" "ELF test";
  size_t before = 0;
  for (jit_code_entry* e = __jit_debug_descriptor.first_entry; e != nullptr; e = e->next) before++;
  jit_debug_handle* handle = jit_debug_register(kFile, sizeof(kFile));
  ASSERT_NE(handle, nullptr);
  EXPECT_EQ(reinterpret_cast<jit_code_entry*>(handle), __jit_debug_descriptor.first_entry);
  EXPECT_EQ(__jit_debug_descriptor.first_entry->symfile_addr, kFile);
  EXPECT_EQ(jit_debug_unregister(handle), 0);
  EXPECT_EQ(jit_debug_unregister(handle), -1);
  EXPECT_EQ(jit_debug_register(nullptr, 1), nullptr);
  EXPECT_EQ(g_notifications, 2);
  size_t after = 0;
  for (jit_code_entry* e = __jit_debug_descriptor.first_entry; e != nullptr; e = e->next) after++;
  EXPECT_EQ(after, before);
  EXPECT_EQ(__jit_debug_descriptor.seqlock % 2, 0u);
  __jit_debug_register_code_ptr = saved;
  __jit_debug_register_code();  // must exist and be callable
}

}  // namespace
}  // namespace jitscope
