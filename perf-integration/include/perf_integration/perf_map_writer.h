// /tmp/perf-PID.map: the oldest JIT symbol interface perf knows. perf reads
// it once, at report time, with no notion of time, so an address reused by
// other code later is ambiguous (jitdump resolves that); it is still what
// every perf version and many other profilers read.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace jitscope::perf {

class PerfMapWriter {
 public:
  // Opens /tmp/perf-PID.map (this process) for appending; `path_override`
  // (tests, other layouts) replaces the path when not empty.
  static std::unique_ptr<PerfMapWriter> Open(std::string* error, const std::string& path_override = {});
  ~PerfMapWriter();
  PerfMapWriter(const PerfMapWriter&) = delete;
  PerfMapWriter& operator=(const PerfMapWriter&) = delete;

  // One line "START SIZE name" (hex, no 0x), written with one write(2) so that
  // a reader never sees half a line and nothing waits in a buffer.
  bool Add(uint64_t address, uint64_t size, std::string_view name, std::string* error);
  const std::string& path() const { return path_; }

 private:
  PerfMapWriter() = default;
  std::mutex mu_;
  std::string path_;
  int fd_ = -1;
};

}  // namespace jitscope::perf
