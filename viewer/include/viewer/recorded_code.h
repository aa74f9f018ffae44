// The JIT code of a recording directory (`jitscope record`, or perf with
// `jitvm --jitdump=DIR`), read back from its jit-PID.dump files: every
// CODE_LOAD becomes a snapshot entry (name, range, load time, the Lua lines
// of the DEBUG_INFO record before it) and its code bytes, so the viewer can
// show a recording like a snapshot and put perf's samples on instructions.
#pragma once

#include <memory>
#include <string>

#include "debuginfo/jit_snapshot.h"
#include "debuginfo/memory.h"
#include "debuginfo/result.h"

namespace jitscope {

// Bounds what one dump may make us allocate (a hostile or corrupt file can
// claim any record size).
inline constexpr uint64_t kMaxJitdumpRecordBytes = uint64_t{64} << 20;
inline constexpr uint64_t kMaxJitdumpFileBytes = uint64_t{1} << 30;

struct RecordedCode {
  JitSnapshot jit;  // one descriptor view, one entry per load still live at the end
  std::unique_ptr<SnapshotMemory> code;
  size_t dumps = 0;       // jit-*.dump files read
  size_t loads = 0;       // CODE_LOAD records seen
  size_t replaced = 0;    // loads whose range a later load reused (the later one is kept)
};

// Errors name the directory or the file and offset of a malformed record.
Result<RecordedCode> ReadRecordedCode(const std::string& dir);

}  // namespace jitscope
