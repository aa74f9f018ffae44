// What `jitscope view` shows, as JSON: the code map, the function table,
// per-function disassembly with source lines (and sample heat for a
// recording), the debug-info memory over time, the register/unregister
// timeline and a tombstone's backtraces. The document layout is the API
// described in docs/viewer.md; the web page and the --html file read
// exactly these documents.
//
// The model is fed plain data (ViewData) by whoever opened the target, so
// the library knows nothing of how a PID, a snapshot file, a tombstone or a
// recording was read. It copies the code bytes of every function it sees,
// so disassembly keeps working after a live target exits or frees the code.
// Thread-safe: one updater, any number of readers (the HTTP threads).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "debuginfo/jit_snapshot.h"
#include "debuginfo/memory.h"
#include "debuginfo/process_maps.h"
#include "debuginfo/result.h"
#include "debuginfo/source_blob.h"
#include "debuginfo/symbolizer.h"

namespace jitscope {

// One frame of a backtrace, already symbolized by the opener.
struct ViewFrame {
  uint64_t pc = 0;
  bool jit = false;
  std::string module;
  std::string function;  // "" when unknown
  uint64_t offset = 0;
  std::string source;  // "file:line" when known
  uint64_t skipped = 0;
};

struct ViewThread {
  int tid = 0;
  std::string name;
  bool crashed = false;
  std::string error;
  std::vector<ViewFrame> frames;
};

struct ViewCrash {
  int signal = 0;
  std::string signal_name;  // "SIGSEGV"
  std::string code_name;    // "SEGV_MAPERR"
  uint64_t fault_address = 0;
  std::string cmdline;
  bool minimal = false;
  std::vector<ViewThread> threads;  // the crashing thread first
};

// Everything the model needs from one read of the target.
struct ViewData {
  std::string mode;    // "live", "snapshot", "tombstone" or "recording"
  std::string source;  // what the user named: a PID, a file or a directory
  int pid = 0;
  std::string comm;
  std::vector<MapEntry> maps;
  const JitSnapshot* jit = nullptr;               // required
  std::map<std::string, SourceBlob> sources;      // chunk name -> text
  Memory* code = nullptr;                         // where function bytes are read (may fail)
  int symbol_pid = 0;                             // AddModules pid (0: files by path)
  bool native_symbols = true;                     // annotate calls to native helpers
  std::string layout_override;                    // e.g. "jitdump": what every entry is
  std::optional<ViewCrash> crash;                 // tombstones
  std::map<uint64_t, uint64_t> samples;           // recordings: sample count by ip
  uint64_t total_samples = 0;
  std::string note;                               // one line shown under the title
};

class ViewModel {
 public:
  // Bounds the copied code: a VM with gigabytes of JIT code is still viewable
  // (functions beyond this are listed but not disassembled).
  static constexpr uint64_t kMaxCodeBytes = uint64_t{256} << 20;
  // The timeline and memory history grow with every change of a live
  // target; the oldest points go first.
  static constexpr size_t kMaxEvents = 20000;
  static constexpr size_t kMaxMemoryPoints = 5000;
  // --html inlines the disassembly of at most this many functions (the
  // file must stay openable in a browser).
  static constexpr size_t kMaxInlinedDisassembly = 2000;
  // A function's source block (mini debug info) shows at most this many
  // lines: a blob's line range comes from the target and may be anything.
  static constexpr uint32_t kMaxSourceLines = 10000;

  ViewModel() = default;
  ViewModel(const ViewModel&) = delete;
  ViewModel& operator=(const ViewModel&) = delete;

  // Replaces the state with `data` (a new snapshot of the same target).
  // `now_ns`: CLOCK_MONOTONIC of the read, for the history.
  void Update(const ViewData& data, uint64_t now_ns);
  // The live target has exited: keep serving the last state, saying so.
  void MarkExited(uint64_t now_ns);
  // A poll failed for another reason (shown, state kept).
  void SetProblem(const std::string& problem);

  // Increases on every change; the page asks "/api/state?since=N".
  uint64_t generation() const;
  // GET /api/state: the whole document (summary, mappings, functions,
  // memory, events, crash). Serialized once per generation.
  std::string StateJson() const;
  // GET /api/disasm?addr=A: the function containing A. Error messages are
  // one line naming the address.
  Result<nlohmann::json> Disassembly(uint64_t address) const;
  // --html: the state and the disassembly of every function, keyed by
  // start address ("0x...").
  nlohmann::json OfflineDocument() const;

 private:
  // start, size, name: a function keeps its bytes when packing moves it to a
  // new entry; code at a reused address with another name is copied anew.
  using CodeKey = std::tuple<uint64_t, uint64_t, std::string>;
  struct Function {
    uint64_t start = 0, size = 0;
    std::string name, tier, layout, source;
    uint64_t entry = 0, registered_ns = 0;
    uint64_t samples = 0;
  };
  struct Event {
    uint64_t time_ns = 0;
    std::string action;  // "register" / "unregister"
    uint64_t entry = 0;
    std::string layout;
    uint64_t symfile_size = 0;
    std::vector<std::string> functions;
  };
  using EntryKey = std::tuple<uint64_t, uint64_t, uint32_t>;  // entry, timestamp, seqlock

  nlohmann::json BuildStateLocked() const;
  Result<nlohmann::json> DisassemblyLocked(uint64_t address) const;
  std::string SourceTextLocked(const std::string& where) const;

  mutable std::mutex mu_;
  uint64_t generation_ = 0;
  std::string mode_, source_, comm_, note_, layout_override_, problem_;
  int pid_ = 0;
  bool exited_ = false;
  uint64_t exited_ns_ = 0, updated_ns_ = 0, taken_ns_ = 0;
  bool synchronized_ = true;
  std::vector<MapEntry> maps_;
  std::vector<Function> functions_;  // sorted by start
  nlohmann::json debug_info_;
  nlohmann::json memory_history_ = nlohmann::json::array();
  std::vector<Event> events_;
  std::map<EntryKey, Event> live_entries_;
  std::vector<std::string> problems_;
  std::map<std::string, SourceBlob> sources_;
  std::optional<ViewCrash> crash_;
  std::map<uint64_t, uint64_t> samples_;
  uint64_t total_samples_ = 0;
  std::map<CodeKey, std::shared_ptr<const std::vector<uint8_t>>> code_;
  uint64_t code_bytes_ = 0;
  std::unique_ptr<Symbolizer> symbols_;
  mutable uint64_t cached_generation_ = ~uint64_t{0};
  mutable std::string cached_state_;
};

}  // namespace jitscope
