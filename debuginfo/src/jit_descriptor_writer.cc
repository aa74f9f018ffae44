#include <new>
#include "debuginfo/jit_descriptor_writer.h"

#include <time.h>

#include <algorithm>
#include <atomic>

namespace jitscope {
namespace {

// Entries per allocation: a chunk is 3 KiB, small enough not to matter for
// a JIT that registers a handful of files, big enough to amortise malloc
// for one that registers thousands.
constexpr size_t kEntriesPerChunk = 64;

// Every field a reader can see is written through an atomic with release
// ordering: the seqlock argument (and TSan) need the data stores ordered
// after the odd seqlock store that precedes them.
template <typename T>
void Publish(T& field, T value) {
  std::atomic_ref<T>(field).store(value, std::memory_order_release);
}

template <typename T>
T Peek(T& field) {
  return std::atomic_ref<T>(field).load(std::memory_order_relaxed);
}

uint64_t MonotonicNanos() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(now.tv_nsec);
}

}  // namespace

JitDescriptorWriter::JitDescriptorWriter(jit_descriptor* descriptor, void (**notify)(void))
    : descriptor_(descriptor), notify_(notify) {}

void JitDescriptorWriter::SetChunkAllocator(ChunkAllocator alloc, void* ctx) {
  std::lock_guard<std::mutex> lock(mutex_);
  chunk_alloc_ = alloc;
  chunk_alloc_ctx_ = ctx;
}

void JitDescriptorWriter::AddChunk(jit_code_entry* chunk) {
  auto start = reinterpret_cast<uintptr_t>(chunk);
  chunk_starts_.insert(std::upper_bound(chunk_starts_.begin(), chunk_starts_.end(), start), start);
}

jit_code_entry* JitDescriptorWriter::AllocateEntry() {
  if (free_entries_.empty() && chunk_alloc_) {
    void* mem = chunk_alloc_(chunk_alloc_ctx_, sizeof(jit_code_entry) * kEntriesPerChunk);
    if (mem) {
      // What may throw first (the allocator's memory is then left unused):
      // entries are only handed out once their chunk is known to IsLive.
      free_entries_.reserve(kEntriesPerChunk);
      auto* chunk = new (mem) jit_code_entry[kEntriesPerChunk]();
      AddChunk(chunk);
      for (size_t i = kEntriesPerChunk; i-- > 0;) {
        chunk[i].seqlock = 1;  // W2: odd = invalid until linked
        free_entries_.push_back(&chunk[i]);
      }
    }
  }
  if (free_entries_.empty()) {
    free_entries_.reserve(kEntriesPerChunk);
    auto owned = std::make_unique<jit_code_entry[]>(kEntriesPerChunk);
    jit_code_entry* chunk = owned.get();
    chunks_.push_back(std::move(owned));  // owned before any entry of it is known
    AddChunk(chunk);
    // Fill in reverse so entries are handed out in address order.
    for (size_t i = kEntriesPerChunk; i-- > 0;) {
      chunk[i].seqlock = 1;  // W2: odd = invalid until linked
      free_entries_.push_back(&chunk[i]);
    }
  }
  // Room for every entry there is: Unregister's push_back then never
  // allocates (it cannot fail, and at exit ~10,000 unregistrations in a row
  // no longer grow the vector step by step).
  size_t all = chunk_starts_.size() * kEntriesPerChunk;
  if (free_entries_.capacity() < all) free_entries_.reserve(std::max(all, 2 * free_entries_.capacity()));
  jit_code_entry* entry = free_entries_.back();
  free_entries_.pop_back();
  return entry;
}

bool JitDescriptorWriter::IsLive(const jit_code_entry* entry) const {
  auto p = reinterpret_cast<uintptr_t>(entry);
  auto chunk = std::upper_bound(chunk_starts_.begin(), chunk_starts_.end(), p);
  if (entry == nullptr || chunk == chunk_starts_.begin()) return false;
  uintptr_t start = *--chunk;
  if (p - start >= sizeof(jit_code_entry) * kEntriesPerChunk || (p - start) % sizeof(jit_code_entry) != 0) return false;
  return Peek(const_cast<jit_code_entry*>(entry)->seqlock) % 2 == 0;  // W2/W5: even while linked
}

uint64_t JitDescriptorWriter::NextTimestamp() {
  // W7: strictly increasing even if the clock is coarse.
  return std::max(MonotonicNanos(), Peek(descriptor_->timestamp) + 1);
}

void JitDescriptorWriter::BeginChange() {
  Publish(descriptor_->seqlock, Peek(descriptor_->seqlock) + 1);  // odd: changing
}

void JitDescriptorWriter::EndChange(uint32_t action, jit_code_entry* entry, uint64_t timestamp) {
  Publish(descriptor_->action_flag, action);
  Publish(descriptor_->relevant_entry, entry);
  Publish(descriptor_->timestamp, timestamp);
  Publish(descriptor_->seqlock, Peek(descriptor_->seqlock) + 1);  // even: at rest
  // W8: re-read the pointer every time; a tool may have redirected it.
  void (*notify)(void) = std::atomic_ref<void (*)(void)>(*notify_).load(std::memory_order_acquire);
  if (notify != nullptr) notify();
}

jit_code_entry* JitDescriptorWriter::Register(const void* symfile, uint64_t size) {
  if (symfile == nullptr || size == 0) return nullptr;
  std::lock_guard<std::mutex> lock(mutex_);
  jit_code_entry* entry;
  try {
    entry = AllocateEntry();
  } catch (const std::bad_alloc&) {
    return nullptr;  // the C API promises NULL, not an exception
  }
  uint64_t timestamp = NextTimestamp();
  jit_code_entry* head = Peek(descriptor_->first_entry);

  // W2: fill the unlinked entry, then make it valid before linking it.
  Publish(entry->prev, static_cast<jit_code_entry*>(nullptr));
  Publish(entry->symfile_addr, static_cast<const char*>(symfile));
  Publish(entry->symfile_size, size);
  Publish(entry->timestamp, timestamp);
  Publish(entry->next, head);
  Publish(entry->seqlock, Peek(entry->seqlock) + 1);

  BeginChange();
  if (head != nullptr) Publish(head->prev, entry);
  Publish(descriptor_->first_entry, entry);  // W4
  EndChange(JIT_REGISTER_FN, entry, timestamp);

  live_count_++;
  return entry;
}

bool JitDescriptorWriter::Unregister(jit_code_entry* entry) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!IsLive(entry)) return false;
  live_count_--;
  uint64_t timestamp = NextTimestamp();

  BeginChange();
  jit_code_entry* prev = Peek(entry->prev);
  jit_code_entry* next = Peek(entry->next);
  if (prev != nullptr) {
    Publish(prev->next, next);
  } else {
    Publish(descriptor_->first_entry, next);
  }
  if (next != nullptr) Publish(next->prev, prev);
  // W5: unlinked above, only now invalid. `next` is left as is so a reader
  // standing on this entry still walks into valid entries (W4).
  Publish(entry->seqlock, Peek(entry->seqlock) + 1);
  EndChange(JIT_UNREGISTER_FN, entry, timestamp);

  free_entries_.push_back(entry);  // W1: recycled, never freed
  return true;
}

size_t JitDescriptorWriter::live_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return live_count_;
}

size_t JitDescriptorWriter::free_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return free_entries_.size();
}

}  // namespace jitscope
