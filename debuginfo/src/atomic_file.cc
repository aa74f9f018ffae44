#include "debuginfo/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace jitscope {

Result<bool> WriteFileAtomically(const std::string& path, std::initializer_list<std::string_view> parts) {
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Error{"cannot create " + tmp + ": " + strerror(errno)};
  auto write_all = [fd](std::string_view s) {
    const char* p = s.data();
    size_t n = s.size();
    while (n > 0) {
      ssize_t w = write(fd, p, n);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return false;
      p += w;
      n -= static_cast<size_t>(w);
    }
    return true;
  };
  bool ok = true;
  for (std::string_view part : parts) ok = ok && write_all(part);
  ok = ok && fsync(fd) == 0;
  int saved = errno;
  close(fd);
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    if (ok) saved = errno;
    unlink(tmp.c_str());
    return Error{"cannot write " + path + ": " + strerror(saved)};
  }
  return true;
}

}  // namespace jitscope
