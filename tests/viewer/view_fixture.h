// What the viewer tests share: a jitvm running tests/viewer/lua/live.lua
// (compiles a few functions, one more on demand, exits on demand), a
// `jitscope view` server on a free port, raw HTTP requests (exact paths,
// no client-side normalization), a tombstone made by a real crash, and the
// directory screenshots go to.
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "harness/child_process.h"
#include "harness/temp_dir.h"

namespace jitscope::viewer_test {

// Generous for a 2-core machine shared with builds.
constexpr auto kStartTimeout = std::chrono::seconds(20);

std::string JitvmPath();
std::string JitscopePath();

class LiveJitvm {
 public:
  // Started in tests/viewer/lua (chunk names are basenames), with
  // --jit-threshold=0 and `flags`; returns once it printed "ready".
  static std::unique_ptr<LiveJitvm> Start(const std::vector<std::string>& flags, std::string* error);
  pid_t pid() const { return process_->pid(); }
  // Makes the script compile late_arrival; true once it printed "late".
  bool CompileLateFunction();
  // Makes the script free its compiled code (needs --test-builtins); true
  // once it printed "flushed".
  bool FlushCode();
  // Makes the script return; true once the process has exited.
  bool Quit();
  testing::ChildProcess& process() { return *process_; }

 private:
  testing::TempDir dir_;
  std::unique_ptr<testing::ChildProcess> process_;
};

class ViewProcess {
 public:
  // `jitscope view ARG --port 0`; returns once it printed its URL.
  static std::unique_ptr<ViewProcess> Start(const std::string& argument, std::string* error);
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }
  testing::ChildProcess& process() { return *process_; }

 private:
  std::unique_ptr<testing::ChildProcess> process_;
  int port_ = 0;
};

struct HttpReply {
  int status = 0;  // 0: no reply
  std::string headers;
  std::string body;
  nlohmann::json Json() const { return nlohmann::json::parse(body, nullptr, false); }
};
// GET `target` exactly as given (raw socket, HTTP/1.1, Connection: close).
HttpReply RawGet(int port, const std::string& target, const std::string& host = "",
                 const std::string& method = "GET");

// Crashes jitvm in JIT code (tests/tombstone/lua/crash_nested.lua
// jit-segv) and returns the tombstone path in `dir` ("" and *error on failure).
std::string MakeTombstone(const std::string& dir, std::string* error);

// build/test-artifacts/viewer (created); printed once per test binary.
std::string ArtifactDir();

}  // namespace jitscope::viewer_test
