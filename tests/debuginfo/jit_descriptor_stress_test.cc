// A writer thread churns the list while reader threads copy it through the
// seqlock protocol. Every copy that the reader accepts must be consistent.
// Run under `make tsan` to check the memory ordering as well.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include "debuginfo/descriptor_reader.h"
#include "debuginfo/jit_descriptor_writer.h"
#include "local_memory.h"

namespace jitscope {
namespace {

// Long enough for thousands of interleavings, short enough for ctest -j2
// (TSan slows it ~10x, still well under the test timeout).
constexpr auto kDuration = std::chrono::milliseconds(1500);
constexpr int kReaders = 3;
constexpr int kSymfiles = 64;
constexpr size_t kMaxLive = 40;

void NoNotify() {}

TEST(JitDescriptorStressTest, ReadersOnlyAcceptConsistentCopies) {
  jit_descriptor descriptor = JitDescriptorWriter::InitDescriptor();
  void (*notify)(void) = NoNotify;
  JitDescriptorWriter writer(&descriptor, &notify);

  // Symfile i has size 16 + i and starts with byte i: a reader can tell a
  // torn entry (address of one file, size of another) from a real one.
  std::vector<std::vector<uint8_t>> symfiles;
  std::map<uint64_t, uint64_t> size_of;
  for (int i = 0; i < kSymfiles; i++) {
    symfiles.emplace_back(16 + i, static_cast<uint8_t>(i));
    size_of[reinterpret_cast<uint64_t>(symfiles.back().data())] = symfiles.back().size();
  }

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> writes{0};
  std::thread writer_thread([&] {
    std::mt19937 random(42);
    std::vector<jit_code_entry*> live;
    while (!stop.load(std::memory_order_relaxed)) {
      bool add = live.empty() || (live.size() < kMaxLive && random() % 2 == 0);
      if (add) {
        auto& file = symfiles[random() % kSymfiles];
        live.push_back(writer.Register(file.data(), file.size()));
      } else {
        size_t victim = random() % live.size();
        ASSERT_TRUE(writer.Unregister(live[victim]));
        live.erase(live.begin() + victim);
      }
      writes++;
      if (writes % 16 == 0) std::this_thread::yield();
    }
  });

  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> symfiles_read{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; r++) {
    readers.emplace_back([&] {
      AtomicLocalMemory memory;
      DescriptorReaderLimits limits;
      limits.max_attempts = 1000;  // the writer here never pauses
      DescriptorReader reader(memory, limits);
      uint64_t last_timestamp = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        Result<DescriptorSnapshot> snapshot = reader.Read(reinterpret_cast<uint64_t>(&descriptor));
        if (!snapshot.ok()) {
          // Only starvation is acceptable, never a structural error.
          EXPECT_NE(snapshot.error().find("kept changing"), std::string::npos) << snapshot.error();
          continue;
        }
        accepted++;
        EXPECT_EQ(snapshot->seqlock % 2, 0u);
        EXPECT_GE(snapshot->timestamp, last_timestamp);
        last_timestamp = snapshot->timestamp;
        EXPECT_LE(snapshot->entries.size(), kMaxLive);
        uint64_t previous_timestamp = UINT64_MAX;
        for (const JitEntrySnapshot& entry : snapshot->entries) {
          EXPECT_EQ(entry.seqlock % 2, 0u);
          auto it = size_of.find(entry.symfile_addr);
          ASSERT_NE(it, size_of.end()) << "torn symfile address " << HexAddress(entry.symfile_addr);
          EXPECT_EQ(entry.symfile_size, it->second);
          EXPECT_LT(entry.timestamp, previous_timestamp) << "newest first";
          previous_timestamp = entry.timestamp;
        }
        if (!snapshot->entries.empty()) {
          const JitEntrySnapshot& head = snapshot->entries.front();
          Result<std::vector<uint8_t>> bytes = reader.ReadSymfile(*snapshot, head);
          if (bytes.ok()) {
            symfiles_read++;
            EXPECT_EQ(bytes->size(), head.symfile_size);
            EXPECT_EQ((*bytes)[0], static_cast<uint8_t>(head.symfile_size - 16));
          }
        }
      }
    });
  }

  std::this_thread::sleep_for(kDuration);
  stop = true;
  writer_thread.join();
  for (auto& reader : readers) reader.join();
  EXPECT_GT(writes.load(), 100u);
  EXPECT_GT(accepted.load(), 10u) << "readers starved: " << writes.load() << " writes";
  std::printf("writes=%llu accepted snapshots=%llu symfiles read=%llu\n",
              static_cast<unsigned long long>(writes.load()), static_cast<unsigned long long>(accepted.load()),
              static_cast<unsigned long long>(symfiles_read.load()));
  EXPECT_EQ(descriptor.seqlock % 2, 0u);
}

}  // namespace
}  // namespace jitscope
