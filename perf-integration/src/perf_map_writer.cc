#include "perf_integration/perf_map_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>

namespace jitscope::perf {

std::unique_ptr<PerfMapWriter> PerfMapWriter::Open(std::string* error, const std::string& path_override) {
  std::unique_ptr<PerfMapWriter> w(new PerfMapWriter());
  w->path_ = path_override.empty() ? "/tmp/perf-" + std::to_string(getpid()) + ".map" : path_override;
  // Truncated: a map left behind by an earlier process with the same pid
  // (pids are reused) would name our code after its functions; code of an
  // image this process exec'd from is unmapped anyway.
  w->fd_ = open(w->path_.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (w->fd_ < 0) {
    *error = "cannot open '" + w->path_ + "': " + strerror(errno);
    return nullptr;
  }
  return w;
}

PerfMapWriter::~PerfMapWriter() {
  if (fd_ >= 0) close(fd_);
}

bool PerfMapWriter::Add(uint64_t address, uint64_t size, std::string_view name, std::string* error) {
  std::string line(40 + name.size(), '\0');
  int n = snprintf(line.data(), 40, "%" PRIx64 " %" PRIx64 " ", address, size);
  line.resize(static_cast<size_t>(n));
  // A newline in a name would start a bogus entry.
  for (char c : name) line.push_back(c == '\n' ? ' ' : c);
  line.push_back('\n');
  std::lock_guard<std::mutex> lock(mu_);
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t w = write(fd_, p, left);
    if (w < 0) {
      if (errno == EINTR) continue;
      *error = "cannot write '" + path_ + "': " + strerror(errno);
      return false;
    }
    p += w;
    left -= static_cast<size_t>(w);
  }
  return true;
}

}  // namespace jitscope::perf
