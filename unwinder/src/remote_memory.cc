#include "unwinder/remote_memory.h"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <limits>
#include <string>

namespace jitscope {

RemoteMemory::RemoteMemory(pid_t pid) : pid_(pid) {}

RemoteMemory::~RemoteMemory() {
  if (mem_fd_ >= 0) close(mem_fd_);
}

size_t RemoteMemory::Read(uint64_t addr, void* dst, size_t n) {
  if (n == 0) return 0;
  // Addresses above the signed range do not exist in user space and would
  // become negative offsets for pread.
  if (addr > static_cast<uint64_t>(std::numeric_limits<off_t>::max())) {
    last_error_ = EFAULT;
    return 0;
  }
  if (use_proc_mem_) return ReadProcMem(addr, dst, n);
  iovec local{dst, n};
  iovec remote{reinterpret_cast<void*>(addr), n};
  ssize_t got = process_vm_readv(pid_, &local, 1, &remote, 1, 0);
  if (got > 0) return static_cast<size_t>(got);
  last_error_ = got == 0 ? EFAULT : errno;
  // ENOSYS: no syscall; EPERM can be a seccomp filter on the syscall while
  // /proc/PID/mem (same ptrace check) still works.
  if (last_error_ == ENOSYS || last_error_ == EPERM) {
    use_proc_mem_ = true;
    return ReadProcMem(addr, dst, n);
  }
  return 0;
}

size_t RemoteMemory::ReadProcMem(uint64_t addr, void* dst, size_t n) {
  if (mem_fd_ < 0) {
    std::string path = "/proc/" + std::to_string(pid_) + "/mem";
    mem_fd_ = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (mem_fd_ < 0) {
      last_error_ = errno;
      return 0;
    }
  }
  ssize_t got = pread(mem_fd_, dst, n, static_cast<off_t>(addr));
  if (got > 0) return static_cast<size_t>(got);
  last_error_ = got == 0 ? EFAULT : errno;
  return 0;
}

}  // namespace jitscope
