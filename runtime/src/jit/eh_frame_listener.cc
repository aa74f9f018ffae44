#include "eh_frame_listener.h"

#include <cstring>
#include <vector>

extern "C" void __register_frame(void* begin);
extern "C" void __deregister_frame(void* begin);

namespace jitvm {
namespace jit {

EhFrameListener::~EhFrameListener() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [base, g] : groups_)
    if (g.buf) __deregister_frame(g.buf);  // the region goes with the JIT
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
  for (auto& [base, g] : groups_) n += g.buf != nullptr;
  return n;
}

void EhFrameListener::Rebuild(uint64_t base, Group& group) {
  std::vector<const jitscope::EhFrameTableEntry*> entries;
  entries.reserve(group.functions.size());
  for (auto& [addr, e] : group.functions)
    if (!e.program.empty()) entries.push_back(&e);
  uint8_t* old_buf = group.buf;
  size_t old_size = group.size;
  group.buf = nullptr;
  group.size = 0;
  if (!entries.empty()) {
    size_t size = jitscope::EhFrameTableSize(entries);
    uint8_t* buf = cache_->AllocateData(size);
    if (buf) {
      std::vector<uint8_t> bytes = jitscope::WriteEhFrameTable(entries, reinterpret_cast<uint64_t>(buf));
      if (bytes.size() == size) {
        memcpy(buf, bytes.data(), size);
        __register_frame(buf);  // the table is zero-terminated
        group.buf = buf;
        group.size = size;
      } else {
        cache_->FreeData(buf, size);
      }
    }
  }
  if (old_buf) {
    __deregister_frame(old_buf);
    cache_->FreeData(old_buf, old_size);
  }
  (void)base;
}

void EhFrameListener::OnCodeLoaded(const jitscope::CodeInfo& code) {
  jitscope::EhFrameTableEntry entry;
  entry.address = code.address;
  entry.size = code.size;
  entry.program = jitscope::EncodeEhFrameProgram(code);
  uint64_t base = code.address & ~(kGroupBytes - 1);
  std::lock_guard<std::mutex> lock(mu_);
  Group& g = groups_[base];
  g.functions[code.address] = std::move(entry);
  Rebuild(base, g);
  stale_.erase(base);
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
