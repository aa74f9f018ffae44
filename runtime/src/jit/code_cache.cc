#include <algorithm>
#include "jit/code_cache.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>

namespace jitvm::jit {

namespace {

constexpr const char* kCodeMemfdName = "jit-cache";
constexpr const char* kDataMemfdName = "jit-data";

void SetError(std::string* error, const std::string& what, int err) {
  if (error != nullptr) *error = what + ": " + std::generic_category().message(err);
}

size_t PageSize() {
  long page = sysconf(_SC_PAGESIZE);
  return page > 0 ? static_cast<size_t>(page) : 4096;
}

size_t RoundUp(size_t x, size_t unit) { return (x + unit - 1) / unit * unit; }

// Closes an fd and unmaps views on the failure paths of Create.
struct Cleanup {
  int fd = -1;
  void* maps[3] = {MAP_FAILED, MAP_FAILED, MAP_FAILED};
  size_t sizes[3] = {0, 0, 0};
  ~Cleanup() {
    for (int i = 0; i < 3; i++) {
      if (maps[i] != MAP_FAILED) munmap(maps[i], sizes[i]);
    }
    if (fd >= 0) close(fd);
  }
};

// Views::kAnonymous (see the header): both views over MAP_SHARED|MAP_ANONYMOUS
// memory. Never writable and executable at once: the duplicate made by mremap
// starts read-write and non-executable, and becomes read-execute.
bool MapAnonymousViews(size_t capacity, Cleanup* c, std::string* error) {
  c->sizes[0] = capacity;
  c->maps[0] = mmap(nullptr, capacity, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (c->maps[0] == MAP_FAILED) {
    SetError(error, "mmap(" + std::to_string(capacity) + ", PROT_READ|PROT_WRITE, MAP_SHARED|MAP_ANONYMOUS) RW view",
             errno);
    return false;
  }
  uintptr_t rw = reinterpret_cast<uintptr_t>(c->maps[0]);
  char path[96];
  snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", static_cast<unsigned long>(rw),
           static_cast<unsigned long>(rw + capacity));
  c->sizes[1] = capacity;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    c->fd = fd;  // kept: Publish() maps pages of it again
    c->maps[1] = mmap(nullptr, capacity, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
    if (c->maps[1] == MAP_FAILED) {
      SetError(error, "mmap(PROT_READ|PROT_EXEC, MAP_PRIVATE) of " + std::string(path), errno);
      return false;
    }
    return true;
  }
  c->maps[1] = mremap(c->maps[0], 0, capacity, MREMAP_MAYMOVE);
  if (c->maps[1] == MAP_FAILED) {
    SetError(error, "mremap(RW view, 0, " + std::to_string(capacity) + ", MREMAP_MAYMOVE)", errno);
    return false;
  }
  if (mprotect(c->maps[1], capacity, PROT_READ | PROT_EXEC) != 0) {
    SetError(error, "mprotect(RX view, PROT_READ|PROT_EXEC)", errno);
    return false;
  }
  return true;
}

}  // namespace

std::unique_ptr<CodeCache> CodeCache::Create(size_t capacity, std::string* error, Views views) {
  if (capacity > kMaxCapacity) {
    SetError(error,
             "jit code cache size " + std::to_string(capacity) + " exceeds the maximum of " +
                 std::to_string(kMaxCapacity) + " bytes (rel32 reach)",
             EINVAL);
    return nullptr;
  }
  size_t page = PageSize();
  capacity = RoundUp(capacity < kMinCapacity ? kMinCapacity : capacity, page);
  // Debug info needs room even when the code cache is tiny (eviction tests):
  // at least 1 MiB, so symbol files and entries stay in the region.
  constexpr size_t kMinDataCapacity = size_t{1} << 20;
  size_t data_capacity = RoundUp(std::max(capacity / kDataCapacityDivisor, kMinDataCapacity), page);

  Cleanup c;
  if (views == Views::kAnonymous) {
    if (!MapAnonymousViews(capacity, &c, error)) return nullptr;
  } else {
    c.fd = memfd_create(kCodeMemfdName, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (c.fd < 0) {
      int err = errno;
      SetError(error, std::string("memfd_create(\"") + kCodeMemfdName + "\")", err);
      return nullptr;
    }
    if (ftruncate(c.fd, static_cast<off_t>(capacity)) != 0) {
      int err = errno;
      SetError(error, "ftruncate(memfd \"" + std::string(kCodeMemfdName) + "\", " +
                          std::to_string(capacity) + ")",
               err);
      return nullptr;
    }
    // A file that shrank under its mappings would turn every access into
    // SIGBUS; sealing the size makes that impossible for anyone holding the fd.
    if (fcntl(c.fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
      int err = errno;
      SetError(error, std::string("fcntl(F_ADD_SEALS) on memfd \"") + kCodeMemfdName + "\"", err);
      return nullptr;
    }
    c.sizes[0] = capacity;
    c.maps[0] = mmap(nullptr, capacity, PROT_READ | PROT_WRITE, MAP_SHARED, c.fd, 0);
    if (c.maps[0] == MAP_FAILED) {
      int err = errno;
      SetError(error,
               "mmap(" + std::to_string(capacity) + ", PROT_READ|PROT_WRITE, MAP_SHARED) of the " +
                   kCodeMemfdName + " RW view",
               err);
      return nullptr;
    }
    c.sizes[1] = capacity;
    // The RX view is a *private* mapping of the same file: it sees every write
    // made through the shared RW view (pages are shared with the page cache until
    // written), and a debugger can still insert software breakpoints through
    // ptrace (the kernel refuses forced writes to shared read-only mappings, but
    // copies a private page on write). See Publish() for the page a debugger copied.
    c.maps[1] = mmap(nullptr, capacity, PROT_READ | PROT_EXEC, MAP_PRIVATE, c.fd, 0);
    if (c.maps[1] == MAP_FAILED) {
      int err = errno;
      SetError(error,
               "mmap(" + std::to_string(capacity) + ", PROT_READ|PROT_EXEC, MAP_PRIVATE) of the " +
                   kCodeMemfdName + " RX view",
               err);
      return nullptr;
    }
  }

  // The data region needs one view only; its fd can go as soon as it is mapped.
  int data_fd = memfd_create(kDataMemfdName, MFD_CLOEXEC);
  if (data_fd < 0) {
    int err = errno;
    SetError(error, std::string("memfd_create(\"") + kDataMemfdName + "\")", err);
    return nullptr;
  }
  if (ftruncate(data_fd, static_cast<off_t>(data_capacity)) != 0) {
    int err = errno;
    close(data_fd);
    SetError(error, "ftruncate(memfd \"" + std::string(kDataMemfdName) + "\", " +
                        std::to_string(data_capacity) + ")",
             err);
    return nullptr;
  }
  c.sizes[2] = data_capacity;
  c.maps[2] = mmap(nullptr, data_capacity, PROT_READ | PROT_WRITE, MAP_SHARED, data_fd, 0);
  int map_err = errno;
  close(data_fd);
  if (c.maps[2] == MAP_FAILED) {
    SetError(error,
             "mmap(" + std::to_string(data_capacity) +
                 ", PROT_READ|PROT_WRITE, MAP_SHARED) of the " + kDataMemfdName + " region",
             map_err);
    return nullptr;
  }

  std::unique_ptr<CodeCache> cache(new CodeCache(c.fd, static_cast<uint8_t*>(c.maps[0]),
                                                 static_cast<uint8_t*>(c.maps[1]), capacity,
                                                 static_cast<uint8_t*>(c.maps[2]), data_capacity));
  // Ownership moved to the cache.
  c.fd = -1;
  c.maps[0] = c.maps[1] = c.maps[2] = MAP_FAILED;
  return cache;
}

CodeCache::CodeCache(int code_fd, uint8_t* rw, uint8_t* rx, size_t capacity, uint8_t* data,
                     size_t data_capacity)
    : code_fd_(code_fd),
      rw_begin_(rw),
      rx_begin_(reinterpret_cast<uintptr_t>(rx)),
      capacity_(capacity),
      data_begin_(reinterpret_cast<uintptr_t>(data)),
      data_capacity_(data_capacity),
      code_populated_(rx_begin_),
      data_populated_(data_begin_),
      code_(rx_begin_, capacity, kCodeAlignment),
      data_(data_begin_, data_capacity, kDataAlignment) {}

CodeCache::~CodeCache() {
  munmap(reinterpret_cast<void*>(rx_begin_), capacity_);
  munmap(rw_begin_, capacity_);
  munmap(reinterpret_cast<void*>(data_begin_), data_capacity_);
  if (code_fd_ >= 0) close(code_fd_);
}

namespace {

// Both regions are shared memfd mappings, whose pages the kernel maps one
// 4 KiB fault at a time (shmem has no huge pages by default), and the code's
// twice: on the write through the RW view and on the first run through the
// RX view. On this VM a fault costs microseconds (a trap and an exit to the
// hypervisor): at 20,000 compiled functions the data region's faults were a
// quarter of the debug info's cost. So the allocators' high-water marks move
// in steps of kPopulateStep, each populated with one madvise per view. Older
// kernels without MADV_POPULATE_* (5.14) just fault as before.
constexpr uintptr_t kPopulateStep = 256 << 10;

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

// Moves *populated past `end` (within [.., limit)); returns the range to populate.
bool NextPopulateRange(uintptr_t end, uintptr_t limit, uintptr_t* populated, uintptr_t* from, uintptr_t* to) {
  if (end <= *populated) return false;
  uintptr_t next = std::min(limit, (end + kPopulateStep - 1) & ~(kPopulateStep - 1));
  *from = *populated;
  *to = next;
  *populated = next;
  return *to > *from;
}

}  // namespace

void CodeCache::PopulateCode(uintptr_t end) {
  uintptr_t from, to;
  if (!NextPopulateRange(end, rx_begin_ + capacity_, &code_populated_, &from, &to)) return;
  madvise(rw_begin_ + (from - rx_begin_), to - from, MADV_POPULATE_WRITE);
  madvise(reinterpret_cast<void*>(from), to - from, MADV_POPULATE_READ);
}

void CodeCache::PopulateData(uintptr_t end) {
  uintptr_t from, to;
  if (!NextPopulateRange(end, data_begin_ + data_capacity_, &data_populated_, &from, &to)) return;
  madvise(reinterpret_cast<void*>(from), to - from, MADV_POPULATE_WRITE);
}

uint8_t* CodeCache::Allocate(size_t size) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::optional<uintptr_t> rx = code_.Allocate(size);
  if (!rx) {
    totals_.failed_code_allocations++;
    return nullptr;
  }
  size_t rounded = code_.AllocationSize(*rx);
  PopulateCode(*rx + rounded);
  // Bytes the compiler leaves unwritten (alignment padding) must trap too.
  std::memset(rw_begin_ + (*rx - rx_begin_), kTrapByte, rounded);
  totals_.code_bytes_allocated += rounded;
  totals_.code_allocations++;
  return reinterpret_cast<uint8_t*>(*rx);
}

bool CodeCache::Free(const uint8_t* rx, size_t size) {
  uintptr_t addr = reinterpret_cast<uintptr_t>(rx);
  std::lock_guard<std::mutex> lock(mutex_);
  size_t rounded = code_.AllocationSize(addr);
  // Poison before the range becomes allocatable again, and only after it is
  // known to be a live allocation of this size, so a bad call corrupts nothing.
  if (rounded == 0 || size == 0 || code_.RoundedSize(size) != rounded) return false;
  std::memset(rw_begin_ + (addr - rx_begin_), kTrapByte, rounded);
  code_.Free(addr, size);
  totals_.code_bytes_freed += rounded;
  totals_.code_frees++;
  return true;
}

bool CodeCache::Publish(const uint8_t* rx, size_t size) {
  uintptr_t addr = reinterpret_cast<uintptr_t>(rx);
  if (!Contains(addr) || size == 0 || addr + size > rx_begin_ + capacity_) return false;
  const uint8_t* rw = rw_begin_ + (addr - rx_begin_);
  if (std::memcmp(rx, rw, size) == 0) return true;
  // A debugger wrote a breakpoint into one of these pages, so the kernel gave
  // the RX view a private copy that no longer follows the file. Map the file's
  // pages again over it (atomic for threads running there; the debugger's
  // breakpoints in these pages are lost).
  size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  uintptr_t lo = addr & ~(page - 1);
  uintptr_t hi = (addr + size + page - 1) & ~(page - 1);
  if (code_fd_ < 0) return false;  // a shared RX view never diverges from the RW one
  void* m = mmap(reinterpret_cast<void*>(lo), hi - lo, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_FIXED, code_fd_,
                 static_cast<off_t>(lo - rx_begin_));
  return m != MAP_FAILED && std::memcmp(rx, rw, size) == 0;
}

uint8_t* CodeCache::Writable(const uint8_t* rx) const {
  uintptr_t addr = reinterpret_cast<uintptr_t>(rx);
  if (!Contains(addr)) return nullptr;
  return rw_begin_ + (addr - rx_begin_);
}

const uint8_t* CodeCache::Executable(const uint8_t* rw) const {
  if (rw < rw_begin_ || rw >= rw_begin_ + capacity_) return nullptr;
  return reinterpret_cast<const uint8_t*>(rx_begin_) + (rw - rw_begin_);
}

const uint8_t* CodeCache::FindAllocation(uintptr_t pc, size_t* size) const {
  if (!Contains(pc)) return nullptr;
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = code_.FindAllocation(pc);
  if (!found) return nullptr;
  if (size != nullptr) *size = found->second;
  return reinterpret_cast<const uint8_t*>(found->first);
}

uint8_t* CodeCache::AllocateData(size_t size) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::optional<uintptr_t> addr = data_.Allocate(size);
  if (!addr) {
    totals_.failed_data_allocations++;
    return nullptr;
  }
  PopulateData(*addr + size);
  return reinterpret_cast<uint8_t*>(*addr);
}

bool CodeCache::FreeData(const uint8_t* data, size_t size) {
  std::lock_guard<std::mutex> lock(mutex_);
  return data_.Free(reinterpret_cast<uintptr_t>(data), size);
}

CodeCacheStats CodeCache::Stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  CodeCacheStats s = totals_;
  s.code = code_.Stats();
  s.data = data_.Stats();
  return s;
}

}  // namespace jitvm::jit
