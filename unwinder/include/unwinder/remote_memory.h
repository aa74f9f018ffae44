// Memory of another process, read with process_vm_readv; falls back to
// /proc/PID/mem where process_vm_readv is unavailable (seccomp, old kernels).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>

#include "debuginfo/memory.h"

namespace jitscope {

class RemoteMemory : public Memory {
 public:
  explicit RemoteMemory(pid_t pid);
  ~RemoteMemory() override;
  RemoteMemory(const RemoteMemory&) = delete;
  RemoteMemory& operator=(const RemoteMemory&) = delete;

  size_t Read(uint64_t addr, void* dst, size_t n) override;

  pid_t pid() const { return pid_; }
  // errno of the last failed read (EPERM: not allowed to inspect the target;
  // ESRCH: it exited; EFAULT/EIO: unmapped address).
  int last_error() const { return last_error_; }

 private:
  size_t ReadProcMem(uint64_t addr, void* dst, size_t n);

  pid_t pid_;
  int last_error_ = 0;
  bool use_proc_mem_ = false;
  int mem_fd_ = -1;
};

}  // namespace jitscope
