// jitvm's --jit-event-log: the ground truth of which compiled function
// occupied which address range when. Lines are
//   load <ns> 0x<addr> <size> <name>
//   free <ns> 0x<addr> <size> <name>
// with CLOCK_MONOTONIC nanoseconds, the clock perf uses with `-k 1`, so
// sample times can be compared with them directly.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace jitscope::perf_test {

// One compiled function from its load to its free.
struct CodeLifetime {
  static constexpr uint64_t kNeverFreed = std::numeric_limits<uint64_t>::max();

  uint64_t addr = 0;
  uint64_t size = 0;
  std::string name;  // "fib@hot.lua:2"
  uint64_t load_ns = 0;
  uint64_t free_ns = kNeverFreed;

  bool LiveAt(uint64_t ns) const { return load_ns <= ns && ns < free_ns; }
  bool Covers(uint64_t ip) const { return addr <= ip && ip - addr < size; }
  // True if both were live at some common instant.
  bool OverlapsInTime(const CodeLifetime& other) const {
    return load_ns < other.free_ns && other.load_ns < free_ns;
  }
};

class JitEventLog {
 public:
  // A final line without its newline is ignored: the VM may be writing it.
  static std::optional<JitEventLog> Parse(const std::string& text, std::string* error);
  static std::optional<JitEventLog> Read(const std::string& path, std::string* error);

  // In load order.
  const std::vector<CodeLifetime>& lifetimes() const { return lifetimes_; }
  // The function that was live at `ns` and covered `ip`; nullptr if none.
  const CodeLifetime* Find(uint64_t ip, uint64_t ns) const;
  // The name of the first function loaded as `lua_name@...`; empty if none.
  std::string NameOf(const std::string& lua_name) const;
  // Some address held, at different times, functions of different names;
  // *example describes one such pair.
  bool HasAddressReuse(std::string* example) const;

 private:
  std::vector<CodeLifetime> lifetimes_;
};

}  // namespace jitscope::perf_test
