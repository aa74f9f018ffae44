#include "event_log_listener.h"

#include <time.h>

#include <cerrno>
#include <cstring>

namespace jitvm {
namespace jit {

std::unique_ptr<EventLog> EventLog::Open(const std::string& path, std::string* error) {
  FILE* f = fopen(path.c_str(), "w");
  if (!f) {
    *error = "cannot open '" + path + "': " + strerror(errno);
    return nullptr;
  }
  auto log = std::make_unique<EventLog>();
  log->file_ = f;
  return log;
}

EventLog::~EventLog() {
  if (file_) fclose(file_);
}

void EventLog::Write(const char* kind, const jitscope::CodeInfo& code) {
  // The time is taken under the lock: loads (compiler thread) and frees (VM
  // thread) may come at once, and the log stays in time order.
  std::lock_guard<std::mutex> lock(mu_);
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  unsigned long long ns = static_cast<unsigned long long>(ts.tv_sec) * 1000000000ull + ts.tv_nsec;
  fprintf(file_, "%s %llu 0x%llx %llu %s\n", kind, ns, static_cast<unsigned long long>(code.address),
          static_cast<unsigned long long>(code.size), code.name.c_str());
  fflush(file_);  // readable while the VM runs or is stopped
}

}  // namespace jit
}  // namespace jitvm
