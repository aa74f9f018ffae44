// Tombstones: one self-contained file per crash, readable by people and
// re-symbolizable offline (`jitscope tombstone FILE`). Format version 1,
// documented in docs/tombstones.md:
//
//   "JSCPTOMB v1 text=%016x json=%016x blob=%016x\n"   (fixed 78-byte header line)
//   text   the human-readable report (like Android's tombstones)
//   json   the machine-readable part: process, signal, every thread's
//          registers and frames, maps, build-ids, captured memory regions
//          and the embedded snapshot, referenced by {blob_offset, blob_size}
//   blob   captured memory (stacks, memory around registers, code around
//          JIT pcs) and the embedded JIT snapshot file (snapshot_file.h)
//
// The crashing process's in-process fallback writes the same header with a
// "minimal" JSON (no blob): registers, a frame-pointer walk and the JIT
// ranges of its frames (see runtime/src/crash_handler.cc).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "debuginfo/process_maps.h"
#include "debuginfo/result.h"
#include "debuginfo/snapshot_file.h"
#include "debuginfo/symbolizer.h"
#include "unwinder/unwinder.h"

namespace jitscope {

inline constexpr char kTombstoneMagic[] = "JSCPTOMB";
inline constexpr uint32_t kTombstoneVersion = 1;
inline constexpr size_t kTombstoneHeaderSize = 78;
// Readers refuse larger files: far above what a dump writes (stacks are
// bounded, the snapshot is bounded by kMaxSnapshotFileBytes).
inline constexpr uint64_t kMaxTombstoneBytes = uint64_t{3} << 30;

struct TombstoneFrame {
  uint64_t pc = 0;
  uint64_t sp = 0;
  std::string method;  // UnwindMethodName, or "frame-pointer" for our own walk
  // Frames of a deep recursion left out before this one (a stack overflow
  // has millions; the dumper keeps the innermost and resumes at the outermost).
  uint64_t skipped = 0;
};

struct TombstoneThread {
  pid_t tid = 0;
  std::string name;
  bool crashed = false;
  Registers regs{};
  std::vector<TombstoneFrame> frames;  // as unwound at dump time
  std::string error;                   // could not be stopped or unwound
};

struct TombstoneMemory {
  uint64_t address = 0;
  std::string label;  // "stack of 1234", "near rip", "code near #02"
  std::vector<uint8_t> bytes;
};

struct TombstoneModule {
  std::string path;
  std::string build_id;  // hex; empty if the file has none or could not be read
};

struct JitRange {  // minimal tombstones: the JIT symbols of the fallback's frames
  uint64_t start = 0, end = 0;
  std::string name;
};

struct Tombstone {
  uint32_t version = kTombstoneVersion;
  bool minimal = false;
  std::string minimal_reason;
  int pid = 0;
  int tid = 0;  // the crashing thread
  std::string comm;
  std::string cmdline;
  int signal = 0;
  int si_code = 0;
  uint64_t fault_address = 0;
  uint64_t signal_time_ns = 0;  // CLOCK_MONOTONIC, taken by the crashing thread's handler
  uint64_t dump_time_ns = 0;    // CLOCK_MONOTONIC, when the dumper had everything
  uint64_t realtime_s = 0;      // wall clock of the dump
  std::vector<TombstoneThread> threads;
  std::vector<MapEntry> maps;
  std::vector<TombstoneModule> modules;
  std::vector<TombstoneMemory> memory;
  std::vector<JitRange> jit_ranges;
  uint64_t jit_entries = 0;
  std::unique_ptr<ProcessSnapshot> snapshot;  // null for minimal tombstones
  std::string text;  // the human-readable part as read (Read) or rendered (Write)
};

const char* SignalName(int signal);
// "SEGV_MAPERR" etc.; "" when unknown.
std::string SignalCodeName(int signal, int code);

// The build-id (hex) of an ELF file; empty if none. Reads only the notes.
std::string ReadBuildId(const std::string& path);

// What a frame resolves to, once symbolized.
struct SymbolizedFrame {
  uint64_t pc = 0;
  uint64_t sp = 0;
  std::string method;
  bool jit = false;
  std::string module;  // "[jit]" or the native path ("" unknown)
  std::string function;  // "" when unknown
  uint64_t offset = 0;
  std::string source;  // "file:line" when known
  uint64_t skipped = 0;  // TombstoneFrame::skipped
};

// Resolves native files for an offline reader: by build-id in `symbols_dir`
// (DIR/<any file>, DIR/.build-id/xx/rest.debug), else the original path
// when its build-id still matches (or when the tombstone recorded none).
class TombstoneFileResolver : public ModuleFileResolver {
 public:
  TombstoneFileResolver(const Tombstone& tombstone, std::string symbols_dir);
  std::string PathFor(const MapEntry& map) override;
  // path of the original -> where it was found ("" missing).
  std::string Resolve(const std::string& original);

 private:
  std::map<std::string, std::string> build_ids_;  // original path -> build-id
  std::map<std::string, std::string> by_build_id_;  // build-id -> file in symbols_dir
  std::map<std::string, std::string> cache_;
};

// Renders the human-readable part (the same text the dumper writes).
std::string RenderTombstoneText(const Tombstone& tombstone, Symbolizer& symbolizer);
// The frames of one thread, symbolized with `symbolizer`; `maps` name the
// module of native pcs without a symbol.
std::vector<SymbolizedFrame> SymbolizeFrames(const std::vector<TombstoneFrame>& frames, Symbolizer& symbolizer,
                                             const std::vector<MapEntry>& maps);
// "#00 pc 00007f...  [jit] fib@fib.lua:3+0x1c" (with " (file:line)" when known).
std::string FormatFrame(size_t index, const SymbolizedFrame& frame);

// Builds a symbolizer for a tombstone: its JIT snapshot (or the minimal
// ranges), and its native modules found through `resolver` (may be null: paths as is).
void AddTombstoneSymbols(const Tombstone& tombstone, TombstoneFileResolver* resolver, Symbolizer* symbolizer);

// Unwinds one thread: UnwindStack (CFI for JIT and native code) when the
// unwinder is available, else a bounded frame-pointer walk (compiled Lua
// code always keeps rbp chains unless --jit-frame-pointers=off).
std::vector<TombstoneFrame> UnwindTombstoneThread(Memory& memory, const std::vector<MapEntry>& maps,
                                                  const JitSnapshot& jit, const Registers& regs,
                                                  const UnwindOptions& options, std::string* error);
// The bounded frame-pointer walk alone: every step must move up the stack by
// less than kMaxFrameSize, stop at max_frames.
std::vector<TombstoneFrame> FramePointerWalk(Memory& memory, const Registers& regs, size_t max_frames);

// The captured memory and code of a tombstone as one address space.
std::unique_ptr<SnapshotMemory> TombstoneAddressSpace(const Tombstone& tombstone);

// Written atomically (temporary file in the same directory, fsync, rename).
// Renders `tombstone.text` first unless it is already set.
Result<bool> WriteTombstone(const Tombstone& tombstone, const std::string& path);
// Errors are one line naming the file: not a tombstone, truncated, corrupt, newer version.
Result<Tombstone> ReadTombstone(const std::string& path);

}  // namespace jitscope
