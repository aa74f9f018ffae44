#include "harness/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

extern char** environ;

namespace jitscope::testing {
namespace {

// Polling is simpler than inotify/pidfd and fast enough for tests.
constexpr std::chrono::milliseconds kPollInterval(5);

std::string ReadWholeFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

std::vector<std::string> MergedEnvironment(const std::vector<std::string>& overrides) {
  std::map<std::string, std::string> vars;
  auto add = [&](const std::string& assignment) {
    size_t eq = assignment.find('=');
    if (eq == std::string::npos) return;
    vars[assignment.substr(0, eq)] = assignment;
  };
  for (char** var = environ; *var != nullptr; var++) add(*var);
  for (const std::string& var : overrides) add(var);
  std::vector<std::string> merged;
  for (auto& [name, assignment] : vars) merged.push_back(assignment);
  return merged;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (std::string& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

}  // namespace

std::unique_ptr<ChildProcess> ChildProcess::Start(const LaunchOptions& options, std::string* error) {
  if (options.argv.empty()) {
    *error = "empty argv";
    return nullptr;
  }
  std::unique_ptr<ChildProcess> child(new ChildProcess());
  if (options.stdout_path.empty() || options.stderr_path.empty()) child->temp_dir_ = std::make_unique<TempDir>();
  child->stdout_path_ = options.stdout_path.empty() ? child->temp_dir_->File("stdout") : options.stdout_path;
  child->stderr_path_ = options.stderr_path.empty() ? child->temp_dir_->File("stderr") : options.stderr_path;

  // Everything the child needs is prepared here: after fork it may only make
  // async-signal-safe calls.
  std::vector<std::string> argv = options.argv;
  std::vector<std::string> env = MergedEnvironment(options.env);
  std::vector<char*> argv_ptrs = CStrings(argv);
  std::vector<char*> env_ptrs = CStrings(env);
  int out_fd = open(child->stdout_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int err_fd = open(child->stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int stdin_pipe[2] = {-1, -1};
  int in_fd = -1;
  if (options.keep_stdin_open) {
    if (pipe2(stdin_pipe, O_CLOEXEC) == 0) in_fd = stdin_pipe[0];
  } else {
    in_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  }
  // The child reports a failed exec through this pipe; a successful exec
  // closes it (O_CLOEXEC) with nothing written.
  int exec_pipe[2];
  if (out_fd < 0 || err_fd < 0 || in_fd < 0 || pipe2(exec_pipe, O_CLOEXEC) != 0) {
    *error = std::string("cannot set up child output files: ") + std::strerror(errno);
    for (int fd : {out_fd, err_fd, in_fd, stdin_pipe[1]}) {
      if (fd >= 0) close(fd);
    }
    return nullptr;
  }

  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    dup2(in_fd, STDIN_FILENO);
    dup2(out_fd, STDOUT_FILENO);
    dup2(err_fd, STDERR_FILENO);
    if (!options.working_dir.empty() && chdir(options.working_dir.c_str()) != 0) {
      int e = errno;
      (void)!write(exec_pipe[1], &e, sizeof(e));
      _exit(127);
    }
    execvpe(argv_ptrs[0], argv_ptrs.data(), env_ptrs.data());
    int e = errno;
    (void)!write(exec_pipe[1], &e, sizeof(e));
    _exit(127);
  }
  close(out_fd);
  close(err_fd);
  close(in_fd);
  close(exec_pipe[1]);
  if (pid < 0) {
    *error = std::string("fork failed: ") + std::strerror(errno);
    close(exec_pipe[0]);
    if (stdin_pipe[1] >= 0) close(stdin_pipe[1]);
    return nullptr;
  }
  // Both sides set the group so a kill right after Start cannot miss it.
  setpgid(pid, pid);
  child->pid_ = pid;
  child->stdin_fd_ = stdin_pipe[1];

  int exec_errno = 0;
  ssize_t got;
  do {
    got = read(exec_pipe[0], &exec_errno, sizeof(exec_errno));
  } while (got < 0 && errno == EINTR);
  close(exec_pipe[0]);
  if (got > 0) {
    child->Reap(/*block=*/true);
    *error = "cannot run " + options.argv[0] + ": " + std::strerror(exec_errno);
    return nullptr;
  }
  return child;
}

ChildProcess::~ChildProcess() {
  CloseStdin();
  if (pid_ > 0 && !reaped_) {
    SignalGroup(SIGKILL);
    Reap(/*block=*/true);
  }
}

void ChildProcess::CloseStdin() {
  if (stdin_fd_ >= 0) {
    close(stdin_fd_);
    stdin_fd_ = -1;
  }
}

void ChildProcess::SignalGroup(int signal) {
  if (pid_ <= 0 || reaped_) return;
  // Our child leads its own group, so this reaches the helpers it spawned
  // (gdb's inferior, perf's workload) and nothing else.
  if (kill(-pid_, signal) != 0) kill(pid_, signal);
}

bool ChildProcess::Reap(bool block) {
  if (reaped_) return true;
  int status = 0;
  pid_t got;
  do {
    got = waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (got < 0 && errno == EINTR);
  if (got != pid_) return false;
  reaped_ = true;
  status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return true;
}

bool ChildProcess::running() { return !Reap(/*block=*/false); }

bool ChildProcess::WaitForOutput(std::string_view needle, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (Stdout().find(needle) != std::string::npos) return true;
    if (!running()) return Stdout().find(needle) != std::string::npos;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kPollInterval);
  }
}

bool ChildProcess::WaitForFile(const std::string& path, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  struct stat st{};
  while (true) {
    if (stat(path.c_str(), &st) == 0) return true;
    if (!running() || std::chrono::steady_clock::now() >= deadline) return stat(path.c_str(), &st) == 0;
    std::this_thread::sleep_for(kPollInterval);
  }
}

std::optional<int> ChildProcess::Wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!Reap(/*block=*/false)) {
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(kPollInterval);
  }
  return status_;
}

int ChildProcess::Stop(std::chrono::milliseconds grace) {
  if (reaped_) return status_;
  SignalGroup(SIGTERM);
  if (std::optional<int> status = Wait(grace)) return *status;
  SignalGroup(SIGKILL);
  Reap(/*block=*/true);
  return status_;
}

std::string ChildProcess::Stdout() const { return ReadWholeFile(stdout_path_); }
std::string ChildProcess::Stderr() const { return ReadWholeFile(stderr_path_); }

}  // namespace jitscope::testing
