#include "eh_frame_listener.h"

#include <cstring>
#include <vector>

extern "C" void __register_frame(void* begin);
extern "C" void __deregister_frame(void* begin);

namespace jitvm {
namespace jit {

EhFrameListener::~EhFrameListener() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [base, g] : groups_) {
    if (g.buf) __deregister_frame(g.buf);  // the region goes with the JIT
    for (Table& t : g.pending) __deregister_frame(t.buf);
  }
  groups_.clear();
}

size_t EhFrameListener::registered() {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (auto& [base, g] : groups_) n += g.functions.size();
  return n;
}

size_t EhFrameListener::tables() {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (auto& [base, g] : groups_) n += (g.buf != nullptr) + g.pending.size();
  return n;
}

// Writes and registers a table of `entries` in the data region ({} when
// there is no room or nothing to register).
EhFrameListener::Table EhFrameListener::WriteTable(const std::vector<const jitscope::EhFrameTableEntry*>& entries) {
  Table t;
  if (entries.empty()) return t;
  size_t size = jitscope::EhFrameTableSize(entries);
  uint8_t* buf = cache_->AllocateData(size);
  if (!buf) return t;
  std::vector<uint8_t> bytes = jitscope::WriteEhFrameTable(entries, reinterpret_cast<uint64_t>(buf));
  if (bytes.size() != size) {
    cache_->FreeData(buf, size);
    return t;
  }
  memcpy(buf, bytes.data(), size);
  __register_frame(buf);  // the table is zero-terminated
  t.buf = buf;
  t.size = size;
  return t;
}

void EhFrameListener::Rebuild(uint64_t base, Group& group) {
  std::vector<const jitscope::EhFrameTableEntry*> entries;
  entries.reserve(group.functions.size());
  for (auto& [addr, e] : group.functions)
    if (!e.program.empty()) entries.push_back(&e);
  uint8_t* old_buf = group.buf;
  size_t old_size = group.size;
  // The new table is registered before the old ones go: no gap for another
  // thread's unwind.
  Table t = WriteTable(entries);
  group.buf = t.buf;
  group.size = t.size;
  if (old_buf) {
    __deregister_frame(old_buf);
    cache_->FreeData(old_buf, old_size);
  }
  for (Table& p : group.pending) {
    __deregister_frame(p.buf);
    cache_->FreeData(p.buf, p.size);
  }
  group.pending.clear();
  (void)base;
}

void EhFrameListener::OnCodeLoaded(const jitscope::CodeInfo& code) {
  jitscope::EhFrameTableEntry entry;
  entry.address = code.address;
  entry.size = code.size;
  entry.program = jitscope::EncodeEhFrameProgram(code);
  uint64_t base = code.address & ~(kGroupBytes - 1);
  std::lock_guard<std::mutex> lock(mu_);
  // Loads moved to another range: fold the previous range's pending tables.
  if (have_last_ && last_base_ != base) {
    auto prev = groups_.find(last_base_);
    if (prev != groups_.end() && !prev->second.pending.empty()) Rebuild(last_base_, prev->second);
  }
  last_base_ = base;
  have_last_ = true;
  Group& g = groups_[base];
  auto& stored = g.functions[code.address];
  stored = std::move(entry);
  // A range that lost code may still describe it, possibly at this very
  // address: rebuild it whole. Otherwise the new function gets its own table.
  if (stale_.erase(base) || g.pending.size() >= kMaxPending || stored.program.empty()) {
    Rebuild(base, g);
    return;
  }
  Table t = WriteTable({&stored});
  if (t.buf)
    g.pending.push_back(t);
  else
    Rebuild(base, g);
}

void EhFrameListener::OnCodeFreed(const jitscope::CodeInfo& code) {
  uint64_t base = code.address & ~(kGroupBytes - 1);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = groups_.find(base);
  if (it == groups_.end() || it->second.functions.erase(code.address) == 0) return;
  stale_.insert(base);
}

void EhFrameListener::OnCodeGcDone() {
  std::lock_guard<std::mutex> lock(mu_);
  for (uint64_t base : stale_) {
    auto it = groups_.find(base);
    if (it == groups_.end()) continue;
    Rebuild(base, it->second);
    if (it->second.functions.empty()) groups_.erase(it);
  }
  stale_.clear();
}

}  // namespace jit
}  // namespace jitvm
