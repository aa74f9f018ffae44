#include "eh_frame_listener.h"

#include <cstdlib>
#include <cstring>

#include "debuginfo/elf_writer.h"

extern "C" void __register_frame(void* begin);
extern "C" void __deregister_frame(void* begin);

namespace jitvm {
namespace jit {

EhFrameListener::~EhFrameListener() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [addr, f] : frames_) __deregister_frame(f.buf);  // the region goes with the JIT
  frames_.clear();
}

void EhFrameListener::OnCodeLoaded(const jitscope::CodeInfo& code) {
  // The encoding is pc-relative, so the bytes depend on where they live: size
  // them once, then build them at their final address.
  jitscope::EhFrameImage probe = jitscope::WriteEhFrameWithHdrAt(code, code.address, code.address);
  if (probe.bytes.empty()) return;
  uint8_t* buf = cache_->AllocateData(probe.bytes.size());
  if (!buf) return;
  jitscope::EhFrameImage eh = jitscope::WriteEhFrameWithHdrAt(code, code.address, reinterpret_cast<uint64_t>(buf));
  if (eh.bytes.size() != probe.bytes.size()) {
    cache_->FreeData(buf, probe.bytes.size());
    return;
  }
  memcpy(buf, eh.bytes.data(), eh.bytes.size());
  std::lock_guard<std::mutex> lock(mu_);
  __register_frame(buf);  // the .eh_frame part starts the buffer, zero-terminated
  frames_[code.address] = Frame{buf, eh.bytes.size()};
}

void EhFrameListener::OnCodeFreed(const jitscope::CodeInfo& code) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = frames_.find(code.address);
  if (it == frames_.end()) return;
  __deregister_frame(it->second.buf);
  cache_->FreeData(it->second.buf, it->second.size);
  frames_.erase(it);
}

}  // namespace jit
}  // namespace jitvm
