// --perf-map and --jitdump: code event listeners over perf-integration's
// writers. Both write synchronously on the compiler thread (one write(2) per
// load, a few microseconds) so that a record never trails the code it names.
// Frees are not reported: perf's formats have no unload; jitdump orders
// loads by time so a later load at a reused address supersedes the old one.
#pragma once

#include <memory>
#include <string>

#include "perf_integration/jitdump_writer.h"
#include "perf_integration/perf_map_writer.h"
#include "runtime/jit_event_listener.h"

namespace jitvm {
namespace jit {

class PerfMapListener : public JitEventListener {
 public:
  explicit PerfMapListener(std::unique_ptr<jitscope::perf::PerfMapWriter> writer) : writer_(std::move(writer)) {}
  void OnCodeLoaded(const jitscope::CodeInfo& code) override;
  void OnCodeFreed(const jitscope::CodeInfo& code) override {}

 private:
  std::unique_ptr<jitscope::perf::PerfMapWriter> writer_;
  bool reported_error_ = false;
};

class JitdumpListener : public JitEventListener {
 public:
  explicit JitdumpListener(std::unique_ptr<jitscope::perf::JitdumpWriter> writer) : writer_(std::move(writer)) {}
  void OnCodeLoaded(const jitscope::CodeInfo& code) override;
  void OnCodeFreed(const jitscope::CodeInfo& code) override {}
  uint64_t ReservedTailBytes(const jitscope::FrameDescription& frame, uint64_t code_size) override {
    return jitscope::perf::JitdumpWriter::ReservedTailBytes(frame, code_size);
  }
  // CODE_CLOSE; called at exit.
  void Close() { writer_->Close(); }
  jitscope::perf::JitdumpStats stats() const { return writer_->stats(); }
  const std::string& path() const { return writer_->path(); }

 private:
  std::unique_ptr<jitscope::perf::JitdumpWriter> writer_;
  bool reported_error_ = false;
};

}  // namespace jit
}  // namespace jitvm
