// Writes perf's jitdump (jitdump_format.h) for a JIT: one file per process,
// one group of records per code load, safe to call from several threads.
//
// Every write of a load (DEBUG_INFO, UNWINDING_INFO, CODE_LOAD) is built in
// one buffer and written with one write(2) under the writer's lock, so records
// of concurrent loads never interleave and their timestamps, taken under the
// same lock, never go backwards.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "debuginfo/code_event.h"

namespace jitscope::perf {

struct JitdumpStats {
  uint64_t loads = 0;
  uint64_t bytes = 0;          // whole file, header included
  uint64_t debug_entries = 0;
  uint64_t unwinding_bytes = 0;
};

class JitdumpWriter {
 public:
  // Creates (truncates) DIR/jit-PID.dump with this process's pid, writes the
  // file header and maps the file PROT_READ|PROT_EXEC so that `perf record`
  // logs the marker MMAP2 that perf inject looks for (perf matches the pid in
  // the name against the mmap's pid, so it must be ours). `header_pid` (0:
  // ours) is the process the code belongs to, for a recorder writing on
  // behalf of another process; perf reads the pid of each CODE_LOAD.
  static std::unique_ptr<JitdumpWriter> Create(const std::string& dir, std::string* error,
                                               uint32_t header_pid = 0);
  // The same at an exact path; map_marker = false skips the PROT_EXEC mapping
  // (a recorder writing the final file while another process holds the marker).
  static std::unique_ptr<JitdumpWriter> CreateAt(const std::string& path, bool map_marker, std::string* error,
                                                 uint32_t header_pid = 0);
  ~JitdumpWriter();
  JitdumpWriter(const JitdumpWriter&) = delete;
  JitdumpWriter& operator=(const JitdumpWriter&) = delete;

  const std::string& path() const { return path_; }

  // Bytes perf inject maps after `code_size` bytes of code when the load
  // carries unwinding info for `frame`: the JIT leaves them free after the
  // code so that no injected mapping covers another function.
  static uint64_t ReservedTailBytes(const FrameDescription& frame, uint64_t code_size);

  struct LoadOptions {
    uint32_t pid = 0;             // 0: this process
    uint32_t tid = 0;             // 0: the calling thread
    uint64_t timestamp_ns = 0;    // 0: now (CLOCK_MONOTONIC, taken under the lock)
    bool debug_info = true;       // CODE_DEBUG_INFO from code.lines (at least the first line)
    bool unwinding_info = true;   // CODE_UNWINDING_INFO from code.frame (when it has rows)
  };
  // code.code_bytes must hold code.size readable bytes.
  bool WriteLoad(const CodeInfo& code, const LoadOptions& options, std::string* error);
  // CODE_CLOSE; later loads are refused. Also done by the destructor.
  bool Close(uint64_t timestamp_ns = 0);

  JitdumpStats stats() const;

 private:
  JitdumpWriter() = default;
  bool WriteLocked(const std::vector<uint8_t>& bytes, std::string* error);

  mutable std::mutex mu_;
  std::string path_;
  int fd_ = -1;
  void* marker_ = nullptr;  // the PROT_EXEC mapping perf record must see
  size_t marker_size_ = 0;
  uint64_t next_index_ = 0;
  uint64_t last_timestamp_ = 0;
  bool closed_ = false;
  JitdumpStats stats_;
  std::vector<uint8_t> buffer_;  // reused under mu_
};

uint64_t MonotonicNowNs();

}  // namespace jitscope::perf
