// The code cache against the real kernel: memfd views, W^X as /proc/self/maps
// shows it, code written through the RW view and run through the RX view, and
// the allocator under threads (short enough for TSan).
#include "jit/code_cache.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace jitvm::jit {
namespace {

using JitFn = int (*)();

struct MapsLine {
  uintptr_t begin = 0;
  uintptr_t end = 0;
  std::string perms;
  std::string path;
};

std::vector<MapsLine> ReadMaps() {
  std::vector<MapsLine> out;
  std::ifstream in("/proc/self/maps");
  std::string line;
  while (std::getline(in, line)) {
    MapsLine m;
    std::istringstream fields(line);
    std::string range, offset, dev, inode;
    fields >> range >> m.perms >> offset >> dev >> inode;
    std::getline(fields >> std::ws, m.path);
    size_t dash = range.find('-');
    m.begin = std::stoull(range.substr(0, dash), nullptr, 16);
    m.end = std::stoull(range.substr(dash + 1), nullptr, 16);
    out.push_back(m);
  }
  return out;
}

const MapsLine* FindMapping(const std::vector<MapsLine>& maps, const void* p) {
  uintptr_t addr = reinterpret_cast<uintptr_t>(p);
  for (const MapsLine& m : maps) {
    if (addr >= m.begin && addr < m.end) return &m;
  }
  return nullptr;
}

size_t CountOpenFds() {
  size_t n = 0;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  while (readdir(dir) != nullptr) n++;
  closedir(dir);
  return n;
}

// x86-64 `mov eax, imm32; ret`.
constexpr size_t kReturnImmSize = 6;
void WriteReturnImm(uint8_t* rw, int32_t value) {
  rw[0] = 0xB8;
  std::memcpy(rw + 1, &value, sizeof(value));
  rw[5] = 0xC3;
}

std::unique_ptr<CodeCache> MakeCache(size_t capacity) {
  std::string error;
  std::unique_ptr<CodeCache> cache = CodeCache::Create(capacity, &error);
  EXPECT_NE(cache, nullptr) << error;
  return cache;
}

TEST(CodeCacheTest, CapacityIsRoundedToPagesWithAMinimum) {
  size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  auto tiny = MakeCache(1);
  ASSERT_NE(tiny, nullptr);
  EXPECT_EQ(tiny->capacity(), CodeCache::kMinCapacity);
  // The data region keeps at least 1 MiB for debug info, even for a tiny code cache.
  EXPECT_EQ(tiny->data_capacity(), size_t{1} << 20);
  EXPECT_EQ(tiny->rx_end() - tiny->rx_begin(), static_cast<ptrdiff_t>(tiny->capacity()));

  auto odd = MakeCache(CodeCache::kMinCapacity + 1);
  ASSERT_NE(odd, nullptr);
  EXPECT_EQ(odd->capacity(), CodeCache::kMinCapacity + page);
  EXPECT_EQ(odd->data_capacity() % page, 0u);
  EXPECT_GE(odd->data_capacity(), odd->capacity() / 4);
}

TEST(CodeCacheTest, TooLargeCapacityIsAClearError) {
  std::string error;
  EXPECT_EQ(CodeCache::Create(CodeCache::kMaxCapacity + 1, &error), nullptr);
  EXPECT_NE(error.find("exceeds the maximum"), std::string::npos) << error;
  // A null error pointer is allowed.
  EXPECT_EQ(CodeCache::Create(CodeCache::kMaxCapacity + 1, nullptr), nullptr);
}

// Runs in a death-test child: with no file descriptors allowed, memfd_create
// fails with EMFILE, and the error must name the call and the errno text.
void CreateWithoutFileDescriptors() {
  struct rlimit none = {0, 0};
  setrlimit(RLIMIT_NOFILE, &none);
  std::string error;
  bool failed = CodeCache::Create(CodeCache::kMinCapacity, &error) == nullptr;
  bool named = error.find("memfd_create(\"jit-cache\")") != std::string::npos &&
               error.find("Too many open files") != std::string::npos;
  _exit(failed && named ? 0 : 1);
}

TEST(CodeCacheTest, SystemCallFailureNamesTheCallAndErrno) {
  // The limit is set in a child so the test process keeps its own.
  EXPECT_EXIT(CreateWithoutFileDescriptors(), ::testing::ExitedWithCode(0), "");
}

TEST(CodeCacheTest, ViewsAreDistinctAliasesOfTheSameMemory) {
  auto cache = MakeCache(CodeCache::kMinCapacity);
  ASSERT_NE(cache, nullptr);
  uint8_t* rx = cache->Allocate(100);
  ASSERT_NE(rx, nullptr);
  uint8_t* rw = cache->Writable(rx);
  ASSERT_NE(rw, nullptr);
  EXPECT_NE(rw, rx);
  EXPECT_FALSE(cache->Contains(reinterpret_cast<uintptr_t>(rw)));
  EXPECT_EQ(cache->Executable(rw), rx);
  EXPECT_EQ(cache->Executable(rx), nullptr);
  EXPECT_EQ(cache->Writable(rw), nullptr);
  rw[0] = 0x5A;
  rw[99] = 0xA5;
  EXPECT_EQ(rx[0], 0x5A);
  EXPECT_EQ(rx[99], 0xA5);
}

TEST(CodeCacheTest, AllocationsAreCacheLineAlignedAndPrefilledWithTraps) {
  auto cache = MakeCache(CodeCache::kMinCapacity);
  ASSERT_NE(cache, nullptr);
  for (size_t size : {1, 7, 64, 65, 300}) {
    uint8_t* rx = cache->Allocate(size);
    ASSERT_NE(rx, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(rx) % CodeCache::kCodeAlignment, 0u);
    EXPECT_TRUE(cache->Contains(reinterpret_cast<uintptr_t>(rx)));
    EXPECT_TRUE(cache->Contains(reinterpret_cast<uintptr_t>(rx + size - 1)));
    size_t rounded = (size + 63) / 64 * 64;
    for (size_t i = 0; i < rounded; i++) ASSERT_EQ(rx[i], CodeCache::kTrapByte) << i;
  }
  EXPECT_EQ(cache->Allocate(0), nullptr);
}

TEST(CodeCacheTest, ContainsCoversExactlyTheRxView) {
  auto cache = MakeCache(CodeCache::kMinCapacity);
  ASSERT_NE(cache, nullptr);
  uintptr_t begin = reinterpret_cast<uintptr_t>(cache->rx_begin());
  uintptr_t end = reinterpret_cast<uintptr_t>(cache->rx_end());
  EXPECT_TRUE(cache->Contains(begin));
  EXPECT_TRUE(cache->Contains(end - 1));
  EXPECT_FALSE(cache->Contains(begin - 1));
  EXPECT_FALSE(cache->Contains(end));
  EXPECT_FALSE(cache->Contains(reinterpret_cast<uintptr_t>(cache->data_begin())));
}

TEST(CodeCacheTest, FullCacheReturnsNullAndFreedSpaceIsReused) {
  auto cache = MakeCache(CodeCache::kMinCapacity);
  ASSERT_NE(cache, nullptr);
  std::vector<uint8_t*> blocks;
  while (uint8_t* rx = cache->Allocate(4096)) blocks.push_back(rx);
  EXPECT_EQ(blocks.size(), CodeCache::kMinCapacity / 4096);
  EXPECT_EQ(cache->Allocate(1), nullptr);
  EXPECT_EQ(cache->Stats().failed_code_allocations, 2u);  // the loop's last try and this one

  ASSERT_TRUE(cache->Free(blocks[3], 4096));
  ASSERT_TRUE(cache->Free(blocks[4], 4096));
  // Two freed neighbours coalesce into one range that serves a bigger request.
  uint8_t* big = cache->Allocate(8192);
  EXPECT_EQ(big, blocks[3]);
  EXPECT_EQ(cache->Allocate(1), nullptr);
}

TEST(CodeCacheTest, FreeRejectsBadCallsAndPoisonsFreedCode) {
  auto cache = MakeCache(CodeCache::kMinCapacity);
  ASSERT_NE(cache, nullptr);
  uint8_t* rx = cache->Allocate(128);
  ASSERT_NE(rx, nullptr);
  uint8_t* rw = cache->Writable(rx);
  std::memset(rw, 0x90, 128);
  EXPECT_FALSE(cache->Free(rx + 64, 64));
  EXPECT_FALSE(cache->Free(rx, 256));
  EXPECT_FALSE(cache->Free(rx, 0));
  EXPECT_FALSE(cache->Free(cache->data_begin(), 128));
  EXPECT_EQ(rx[0], 0x90);  // a rejected free touches nothing

  ASSERT_TRUE(cache->Free(rx, 128));
  for (size_t i = 0; i < 128; i++) ASSERT_EQ(rx[i], CodeCache::kTrapByte) << i;
  EXPECT_FALSE(cache->Free(rx, 128));  // double free
}

TEST(CodeCacheTest, RunsCodeWrittenThroughTheRwViewAndReusesItsAddress) {
  auto cache = MakeCache(CodeCache::kMinCapacity);
  ASSERT_NE(cache, nullptr);
  uint8_t* rx = cache->Allocate(kReturnImmSize);
  ASSERT_NE(rx, nullptr);
  const uint8_t kMovEax42Ret[] = {0xB8, 0x2A, 0x00, 0x00, 0x00, 0xC3};
  std::memcpy(cache->Writable(rx), kMovEax42Ret, sizeof(kMovEax42Ret));
  EXPECT_EQ(reinterpret_cast<JitFn>(rx)(), 42);

  // Evict it and compile something else into the same place: the address is
  // reused and the new code runs.
  ASSERT_TRUE(cache->Free(rx, kReturnImmSize));
  uint8_t* again = cache->Allocate(kReturnImmSize);
  ASSERT_EQ(again, rx);
  WriteReturnImm(cache->Writable(again), 7);
  EXPECT_EQ(reinterpret_cast<JitFn>(again)(), 7);
}

TEST(CodeCacheTest, ProcMapsShowsWxorXAndTheMemfdName) {
  auto cache = MakeCache(CodeCache::kMinCapacity);
  ASSERT_NE(cache, nullptr);
  uint8_t* rx = cache->Allocate(64);
  ASSERT_NE(rx, nullptr);
  uint8_t* data = cache->AllocateData(64);
  ASSERT_NE(data, nullptr);

  std::vector<MapsLine> maps = ReadMaps();
  ASSERT_FALSE(maps.empty());
  for (const MapsLine& m : maps) {
    ASSERT_GE(m.perms.size(), 4u);
    EXPECT_FALSE(m.perms[1] == 'w' && m.perms[2] == 'x')
        << "writable and executable mapping " << std::hex << m.begin << "-" << m.end << " "
        << m.perms << " " << m.path;
  }

  const MapsLine* rx_map = FindMapping(maps, cache->rx_begin());
  ASSERT_NE(rx_map, nullptr);
  // Private, so debuggers can insert software breakpoints (see CodeCache::Publish).
  EXPECT_EQ(rx_map->perms, "r-xp");
  EXPECT_EQ(rx_map->path, "/memfd:jit-cache (deleted)");
  EXPECT_EQ(rx_map->begin, reinterpret_cast<uintptr_t>(cache->rx_begin()));
  EXPECT_EQ(rx_map->end, reinterpret_cast<uintptr_t>(cache->rx_end()));

  const MapsLine* rw_map = FindMapping(maps, cache->Writable(rx));
  ASSERT_NE(rw_map, nullptr);
  EXPECT_EQ(rw_map->perms, "rw-s");
  EXPECT_EQ(rw_map->path, "/memfd:jit-cache (deleted)");

  const MapsLine* data_map = FindMapping(maps, data);
  ASSERT_NE(data_map, nullptr);
  EXPECT_EQ(data_map->perms, "rw-s");
  EXPECT_EQ(data_map->path, "/memfd:jit-data (deleted)");
}

TEST(CodeCacheTest, DataRegionIsSeparateWritableAndReusable) {
  auto cache = MakeCache(CodeCache::kMinCapacity);
  ASSERT_NE(cache, nullptr);
  uint8_t* a = cache->AllocateData(100);
  uint8_t* b = cache->AllocateData(1);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % CodeCache::kDataAlignment, 0u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b) % CodeCache::kDataAlignment, 0u);
  EXPECT_TRUE(cache->ContainsData(reinterpret_cast<uintptr_t>(a)));
  EXPECT_FALSE(cache->Contains(reinterpret_cast<uintptr_t>(a)));
  std::memset(a, 0xAB, 100);
  EXPECT_EQ(a[99], 0xAB);

  EXPECT_EQ(cache->AllocateData(cache->data_capacity()), nullptr);  // a and b are in the way
  ASSERT_TRUE(cache->FreeData(a, 100));
  EXPECT_FALSE(cache->FreeData(a, 100));
  EXPECT_EQ(cache->AllocateData(100), a);
  ASSERT_TRUE(cache->FreeData(a, 100));
  ASSERT_TRUE(cache->FreeData(b, 1));
  // Data allocations do not consume code space and vice versa.
  EXPECT_NE(cache->AllocateData(cache->data_capacity()), nullptr);
  EXPECT_NE(cache->Allocate(cache->capacity()), nullptr);
  EXPECT_EQ(cache->AllocateData(1), nullptr);
  EXPECT_EQ(cache->Stats().failed_data_allocations, 2u);
}

TEST(CodeCacheTest, FindAllocationMapsPcToItsCode) {
  auto cache = MakeCache(CodeCache::kMinCapacity);
  ASSERT_NE(cache, nullptr);
  uint8_t* rx = cache->Allocate(200);
  ASSERT_NE(rx, nullptr);
  size_t size = 0;
  EXPECT_EQ(cache->FindAllocation(reinterpret_cast<uintptr_t>(rx + 150), &size), rx);
  EXPECT_EQ(size, 256u);
  EXPECT_EQ(cache->FindAllocation(reinterpret_cast<uintptr_t>(rx + 256)), nullptr);
  EXPECT_EQ(cache->FindAllocation(reinterpret_cast<uintptr_t>(cache->data_begin())), nullptr);
}

TEST(CodeCacheTest, StatsCountOverTheWholeLife) {
  auto cache = MakeCache(CodeCache::kMinCapacity);
  ASSERT_NE(cache, nullptr);
  uint8_t* a = cache->Allocate(100);
  uint8_t* b = cache->Allocate(64);
  ASSERT_TRUE(cache->Free(a, 100));
  CodeCacheStats s = cache->Stats();
  EXPECT_EQ(s.code_allocations, 2u);
  EXPECT_EQ(s.code_frees, 1u);
  EXPECT_EQ(s.code_bytes_allocated, 128u + 64u);
  EXPECT_EQ(s.code_bytes_freed, 128u);
  EXPECT_EQ(s.code.bytes_used, 64u);
  EXPECT_EQ(s.code.allocation_count, 1u);
  EXPECT_EQ(s.code.capacity, cache->capacity());
  EXPECT_EQ(s.data.capacity, cache->data_capacity());
  ASSERT_TRUE(cache->Free(b, 64));
}

TEST(CodeCacheTest, DestructionReleasesMappingsAndDescriptors) {
  auto count_cache_maps = [] {
    size_t n = 0;
    for (const MapsLine& m : ReadMaps()) {
      if (m.path.find("/memfd:jit-") == 0) n++;
    }
    return n;
  };
  size_t fds = CountOpenFds();
  size_t maps = count_cache_maps();
  for (int i = 0; i < 10; i++) {
    auto cache = MakeCache(CodeCache::kMinCapacity);
    ASSERT_NE(cache, nullptr);
    EXPECT_EQ(count_cache_maps(), maps + 3);  // RW, RX, data
  }
  EXPECT_EQ(CountOpenFds(), fds);
  EXPECT_EQ(count_cache_maps(), maps);
}

// Threads allocate, write, run and free code at once, as the compiler thread
// and the interpreter thread do; under TSan this proves the locking.
TEST(CodeCacheTest, ConcurrentAllocateWriteRunFree) {
  constexpr int kThreads = 4;
  constexpr int kIterations = 4000;
  constexpr size_t kMaxLivePerThread = 16;
  auto cache = MakeCache(CodeCache::kMinCapacity);
  ASSERT_NE(cache, nullptr);
  std::atomic<int> wrong{0};
  std::atomic<int> ran{0};

  auto worker = [&](int id) {
    std::mt19937 rng(id);
    struct Live {
      uint8_t* rx;
      size_t size;
      int32_t value;
      uint8_t* data;
    };
    std::vector<Live> live;
    for (int i = 0; i < kIterations; i++) {
      if (live.size() < kMaxLivePerThread && rng() % 3 != 0) {
        size_t size = kReturnImmSize + rng() % 500;
        uint8_t* rx = cache->Allocate(size);
        if (rx == nullptr) continue;  // full: a real JIT would evict
        int32_t value = id * 1000000 + i;
        uint8_t* rw = cache->Writable(rx);
        WriteReturnImm(rw, value);
        std::memset(rw + kReturnImmSize, 0x90, size - kReturnImmSize);
        uint8_t* data = cache->AllocateData(32);
        if (data != nullptr) std::memcpy(data, &value, sizeof(value));
        live.push_back({rx, size, value, data});
      } else if (!live.empty()) {
        size_t k = rng() % live.size();
        Live l = live[k];
        live[k] = live.back();
        live.pop_back();
        if (reinterpret_cast<JitFn>(l.rx)() != l.value) wrong++;
        ran++;
        if (l.data != nullptr) {
          int32_t stored;
          std::memcpy(&stored, l.data, sizeof(stored));
          if (stored != l.value) wrong++;
          if (!cache->FreeData(l.data, 32)) wrong++;
        }
        if (!cache->Free(l.rx, l.size)) wrong++;
      }
      if (i % 100 == 0) {
        CodeCacheStats s = cache->Stats();
        if (s.code.bytes_used + s.code.bytes_free != cache->capacity()) wrong++;
      }
    }
    for (const Live& l : live) {
      if (reinterpret_cast<JitFn>(l.rx)() != l.value) wrong++;
      if (l.data != nullptr && !cache->FreeData(l.data, 32)) wrong++;
      if (!cache->Free(l.rx, l.size)) wrong++;
    }
  };

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++) threads.emplace_back(worker, t + 1);
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_GT(ran.load(), 0);
  CodeCacheStats s = cache->Stats();
  EXPECT_EQ(s.code.bytes_used, 0u);
  EXPECT_EQ(s.code.free_range_count, 1u);
  EXPECT_EQ(s.data.bytes_used, 0u);
  EXPECT_EQ(s.code_bytes_allocated, s.code_bytes_freed);
}

// One thread compiles (allocates and writes) and hands code over; another runs
// it and frees it: the ownership transfer the JIT does between its compiler
// thread and the interpreter.
TEST(CodeCacheTest, CompilerThreadHandsCodeToRunnerThread) {
  constexpr int kFunctions = 2000;
  auto cache = MakeCache(CodeCache::kMinCapacity);
  ASSERT_NE(cache, nullptr);
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::pair<uint8_t*, int32_t>> queue;
  bool done = false;
  int wrong = 0;
  int ran = 0;

  std::thread compiler([&] {
    for (int32_t i = 0; i < kFunctions; i++) {
      uint8_t* rx = nullptr;
      // When the cache is full, wait for the runner to free something.
      while ((rx = cache->Allocate(kReturnImmSize)) == nullptr) std::this_thread::yield();
      WriteReturnImm(cache->Writable(rx), i);
      std::lock_guard<std::mutex> lock(mu);
      queue.emplace_back(rx, i);
      cv.notify_one();
    }
    std::lock_guard<std::mutex> lock(mu);
    done = true;
    cv.notify_one();
  });
  std::thread runner([&] {
    for (;;) {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return done || !queue.empty(); });
      if (queue.empty()) return;
      auto [rx, value] = queue.front();
      queue.pop_front();
      lock.unlock();
      if (reinterpret_cast<JitFn>(rx)() != value) wrong++;
      ran++;
      if (!cache->Free(rx, kReturnImmSize)) wrong++;
    }
  });
  compiler.join();
  runner.join();
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(ran, kFunctions);
  EXPECT_EQ(cache->Stats().code.bytes_used, 0u);
}

}  // namespace
}  // namespace jitvm::jit
