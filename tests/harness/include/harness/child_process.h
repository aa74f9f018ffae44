// A process started by a test: fork/exec with its own process group,
// output captured to files, killed and reaped by its destructor. Tests only
// ever signal processes they started (never by name).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/temp_dir.h"

namespace jitscope::testing {

struct LaunchOptions {
  std::vector<std::string> argv;  // argv[0]: a path, or a name looked up in PATH
  std::vector<std::string> env;   // "NAME=value", added to (or replacing in) ours
  std::string working_dir;        // empty: ours
  // Where stdout/stderr go; empty: files in a temporary directory owned by
  // the ChildProcess.
  std::string stdout_path;
  std::string stderr_path;
  bool keep_stdin_open = false;  // stdin is /dev/null unless this is set
};

class ChildProcess {
 public:
  // nullptr and *error set if the program cannot be started.
  static std::unique_ptr<ChildProcess> Start(const LaunchOptions& options, std::string* error);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running();

  // Readiness: true once stdout contains `needle`; false on timeout or if
  // the process exits first.
  bool WaitForOutput(std::string_view needle, std::chrono::milliseconds timeout);
  bool WaitForFile(const std::string& path, std::chrono::milliseconds timeout);

  // Exit code, or 128 + signal number; nullopt on timeout (still running).
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  // SIGTERM, then SIGKILL after `grace`; reaps. Returns the exit status.
  int Stop(std::chrono::milliseconds grace = std::chrono::milliseconds(2000));
  void CloseStdin();

  std::string Stdout() const;
  std::string Stderr() const;
  const std::string& stdout_path() const { return stdout_path_; }
  const std::string& stderr_path() const { return stderr_path_; }

 private:
  ChildProcess() = default;
  bool Reap(bool block);
  void SignalGroup(int signal);

  std::unique_ptr<TempDir> temp_dir_;
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
  int stdin_fd_ = -1;
  std::string stdout_path_;
  std::string stderr_path_;
};

}  // namespace jitscope::testing
