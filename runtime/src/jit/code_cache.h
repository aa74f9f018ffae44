// The JIT code cache: where compiled machine code and its metadata live.
//
// W^X by construction: the code memory is one memfd ("jit-cache") mapped twice
// with MAP_SHARED, a read-write view that only the compiler writes through and
// a read-execute view that only the CPU runs from. No mapping is ever writable
// and executable at once, so there is no mprotect flipping (and no window in
// which another thread could run half-written code or an attacker could write
// code), and /proc/PID/maps shows the RX view as "/memfd:jit-cache (deleted)",
// which outside tools (perf, our unwinder) use to recognise JIT code.
//
// Beside it, a read-write data region (memfd "jit-data") holds metadata and
// debug info (in-memory ELF files, GDB JIT entries). It is never returned to
// the OS while the cache lives, because other processes read it by address at
// any time: a freed block is merely reused, never unmapped.
//
// Publishing: code written through Writable() becomes visible to other threads
// through the RX view only after the writer publishes its entry point with a
// release store (and runners load it with acquire). x86-64 keeps instruction
// fetch coherent with stores, so no explicit cache flush is needed there.
//
// Freed code is overwritten with int3 so that a stale jump into it traps at
// once instead of running whatever is compiled there next.
//
// Thread-safe: the compiler thread allocates while the main thread frees.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "jit/range_allocator.h"

namespace jitvm::jit {

struct CodeCacheStats {
  RangeAllocatorStats code;
  RangeAllocatorStats data;
  // Over the cache's whole life, for --jit-stats.
  uint64_t code_bytes_allocated = 0;
  uint64_t code_bytes_freed = 0;
  uint64_t code_allocations = 0;
  uint64_t code_frees = 0;
  uint64_t failed_code_allocations = 0;  // "cache full": the caller should evict
  uint64_t failed_data_allocations = 0;
};

class CodeCache {
 public:
  // Small enough for tests and tiny --jit-cache-size runs that force eviction,
  // big enough for a handful of functions.
  static constexpr size_t kMinCapacity = 64 * 1024;
  // Keeps every pc in the cache within rel32 reach of every other (a jump or
  // call between compiled functions spans at most capacity - 1 bytes), so the
  // JIT can always emit direct calls between compiled functions.
  static constexpr size_t kMaxCapacity = size_t{2} * 1024 * 1024 * 1024;
  static constexpr size_t kCodeAlignment = RangeAllocator::kDefaultAlignment;
  // ELF headers and GDB JIT entries need at most 8; 16 matches malloc.
  static constexpr size_t kDataAlignment = 16;
  // The data region is a quarter of the code capacity: ART measures debug info
  // at 5-10% of code size unpacked; the rest is headroom for metadata.
  static constexpr size_t kDataCapacityDivisor = 4;
  static constexpr uint8_t kTrapByte = 0xCC;  // int3

  // `capacity` is the code capacity in bytes, rounded up to whole pages and to
  // at least kMinCapacity. Returns nullptr and sets *error (naming the failing
  // call and the errno text) on failure.
  // kAnonymous (jitvm --perf-map): the code lives in anonymous shared memory
  // instead of the memfd, so /proc/PID/maps and perf show both views as
  // "/dev/zero (deleted)". perf looks symbols up in /tmp/perf-PID.map only for
  // anonymous executable mappings (its is_anon_memory()); a memfd mapping is
  // a file to perf, whose symbols it cannot read. The RX view is a private
  // mapping of /proc/self/map_files/ of the RW view where we may open it
  // (CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE), so debuggers keep software
  // breakpoints; otherwise an mremap duplicate, which is shared, and the
  // kernel refuses a debugger's forced writes into it (use hbreak).
  enum class Views { kMemfd, kAnonymous };
  static std::unique_ptr<CodeCache> Create(size_t capacity, std::string* error, Views views = Views::kMemfd);

  ~CodeCache();
  CodeCache(const CodeCache&) = delete;
  CodeCache& operator=(const CodeCache&) = delete;

  // An RX address of `size` bytes aligned to kCodeAlignment, or nullptr when
  // no hole is big enough (the caller evicts cold code and retries).
  uint8_t* Allocate(size_t size);
  // Returns code allocated by Allocate. The caller guarantees that no thread
  // runs it or has a frame in it. Bytes are overwritten with int3.
  // Returns false on an address/size that is not a live allocation.
  bool Free(const uint8_t* rx, size_t size);

  // The RW alias of an RX address in the cache (or nullptr if outside it).
  uint8_t* Writable(const uint8_t* rx) const;
  // After writing code through Writable(): makes sure the RX view shows it
  // (re-maps pages a debugger copied on write). False if it cannot.
  bool Publish(const uint8_t* rx, size_t size);
  // The RX alias of an RW address in the cache (or nullptr if outside it).
  const uint8_t* Executable(const uint8_t* rw) const;

  // Whether `pc` is in the RX view (allocated or not); lock-free, for signal
  // handlers and stack walkers.
  bool Contains(uintptr_t pc) const { return pc >= rx_begin_ && pc < rx_begin_ + capacity_; }
  // The start of the live code allocation holding `pc` (and its rounded size
  // in *size), or nullptr. Takes the lock: not for signal handlers.
  const uint8_t* FindAllocation(uintptr_t pc, size_t* size = nullptr) const;

  uint8_t* AllocateData(size_t size);
  bool FreeData(const uint8_t* data, size_t size);
  bool ContainsData(uintptr_t addr) const {
    return addr >= data_begin_ && addr < data_begin_ + data_capacity_;
  }

  const uint8_t* rx_begin() const { return reinterpret_cast<const uint8_t*>(rx_begin_); }
  const uint8_t* rx_end() const { return rx_begin() + capacity_; }
  const uint8_t* data_begin() const { return reinterpret_cast<const uint8_t*>(data_begin_); }
  const uint8_t* data_end() const { return data_begin() + data_capacity_; }
  size_t capacity() const { return capacity_; }
  size_t data_capacity() const { return data_capacity_; }

  CodeCacheStats Stats() const;

 private:
  CodeCache(int code_fd, uint8_t* rw, uint8_t* rx, size_t capacity, uint8_t* data,
            size_t data_capacity);

  const int code_fd_;
  uint8_t* const rw_begin_;
  const uintptr_t rx_begin_;
  const size_t capacity_;
  const uintptr_t data_begin_;
  const size_t data_capacity_;

  // Populates the pages up to `end` (and some ahead) at once; mutex_ held.
  void PopulateCode(uintptr_t end);
  void PopulateData(uintptr_t end);

  mutable std::mutex mutex_;
  uintptr_t code_populated_;  // RX addresses below this have their pages mapped in both views
  uintptr_t data_populated_;
  RangeAllocator code_;  // over RX addresses
  RangeAllocator data_;
  CodeCacheStats totals_;  // lifetime counters only; allocator stats are taken on demand
};

}  // namespace jitvm::jit
