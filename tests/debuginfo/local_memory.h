// Test-only Memory over this process's own address space. Loads are atomic
// (acquire) so that reading a descriptor another thread is writing is not a
// data race under TSan; they are the in-process stand-in for
// process_vm_readv.
#pragma once

#include <cstdint>
#include <cstring>

#include "debuginfo/memory.h"

namespace jitscope {

class AtomicLocalMemory : public Memory {
 public:
  size_t Read(uint64_t addr, void* dst, size_t n) override {
    auto* out = static_cast<uint8_t*>(dst);
    size_t done = 0;
    while (done < n) {
      uint64_t at = addr + done;
      if (at % 8 == 0 && n - done >= 8) {
        uint64_t v = __atomic_load_n(reinterpret_cast<const uint64_t*>(at), __ATOMIC_ACQUIRE);
        std::memcpy(out + done, &v, 8);
        done += 8;
      } else if (at % 4 == 0 && n - done >= 4) {
        uint32_t v = __atomic_load_n(reinterpret_cast<const uint32_t*>(at), __ATOMIC_ACQUIRE);
        std::memcpy(out + done, &v, 4);
        done += 4;
      } else {
        out[done] = __atomic_load_n(reinterpret_cast<const uint8_t*>(at), __ATOMIC_ACQUIRE);
        done += 1;
      }
    }
    return n;
  }
};

}  // namespace jitscope
