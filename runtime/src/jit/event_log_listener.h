// --jit-event-log=FILE: one line per code event, for tools and tests that
// need the ground truth of which code was live when (the snapshot stress
// test checks every snapshot against it):
//   load <ns> <address> <size> <name>
//   free <ns> <address> <size> <name>
// <ns> is CLOCK_MONOTONIC, the clock of the GDB JIT descriptor's timestamps;
// addresses in hex with 0x. Two instances bracket the other listeners: the
// load logger is added first (its time precedes the registration) and the
// free logger last (its time follows the unregistration), so "loaded at or
// before T and not freed at or before T" is exact for a descriptor
// timestamp T. Each line is flushed as written (a debugging aid, not fast).
#pragma once

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include "runtime/jit_event_listener.h"

namespace jitvm {
namespace jit {

class EventLog {
 public:
  static std::unique_ptr<EventLog> Open(const std::string& path, std::string* error);
  ~EventLog();
  void Write(const char* kind, const jitscope::CodeInfo& code);

 private:
  FILE* file_ = nullptr;
  std::mutex mu_;
};

class EventLogListener : public JitEventListener {
 public:
  enum class Role { kLoads, kFrees };
  EventLogListener(EventLog* log, Role role) : log_(log), role_(role) {}
  void OnCodeLoaded(const jitscope::CodeInfo& code) override {
    if (role_ == Role::kLoads) log_->Write("load", code);
  }
  void OnCodeFreed(const jitscope::CodeInfo& code) override {
    if (role_ == Role::kFrees) log_->Write("free", code);
  }

 private:
  EventLog* log_;
  Role role_;
};

}  // namespace jit
}  // namespace jitvm
