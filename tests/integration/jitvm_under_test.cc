#include "jitvm_under_test.h"

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "harness/paths.h"

namespace jitscope::integration {
namespace {

// Polling /proc is simple and far below the tests' time scale.
constexpr std::chrono::milliseconds kPollInterval(10);

// State letter from /proc/PID/stat ('T' = stopped); '?' if unreadable.
// The command name may contain spaces and parentheses, so the state is
// found after the last ')'.
char ProcessState(pid_t pid) {
  std::string stat = ReadWholeFile("/proc/" + std::to_string(pid) + "/stat");
  size_t paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat.size()) return '?';
  return stat[paren + 2];
}

}  // namespace

std::string JitvmPath() { return testing::BinPath("jitvm"); }
std::string JitscopePath() { return testing::BinPath("jitscope"); }
std::string LuaDir() { return testing::SourcePath("tests/integration/lua"); }
std::string LuaScriptPath(const std::string& name) { return LuaDir() + "/" + name; }

int LineContaining(const std::string& script, const std::string& text) {
  std::ifstream file(LuaScriptPath(script));
  int number = 0;
  for (std::string line; std::getline(file, line);) {
    number++;
    if (line.find(text) != std::string::npos) return number;
  }
  return 0;
}

std::string ReadWholeFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

std::vector<GroundTruthFrame> ParseGroundTruth(const std::string& text) {
  std::vector<GroundTruthFrame> frames;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    size_t space = line.rfind(' ');
    if (space == std::string::npos) continue;
    frames.push_back({line.substr(0, space), line.substr(space + 1)});
  }
  return frames;
}

std::vector<std::string> CompiledFrameNames(const std::vector<GroundTruthFrame>& frames) {
  std::vector<std::string> names;
  for (const GroundTruthFrame& frame : frames) {
    if (frame.tier != "interp") names.push_back(frame.name);
  }
  return names;
}

testing::ToolResult RunInLuaDir(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                                std::chrono::milliseconds timeout) {
  testing::LaunchOptions options;
  options.argv = argv;
  options.env = env;
  options.working_dir = LuaDir();
  return testing::RunTool(options, timeout);
}

void KillLeftoverJitvm(pid_t pid) {
  if (pid <= 0) return;
  std::error_code error;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/exe", error);
  if (error) return;  // gone (the normal case)
  std::filesystem::path ours = std::filesystem::weakly_canonical(JitvmPath(), error);
  if (!error && exe == ours) kill(pid, SIGKILL);
}

std::unique_ptr<StoppedJitvm> StoppedJitvm::Start(const std::vector<std::string>& jitvm_flags,
                                                  const std::string& script, std::string* error) {
  std::unique_ptr<StoppedJitvm> vm(new StoppedJitvm());
  vm->temp_dir_ = std::make_unique<testing::TempDir>();
  std::string truth_path = vm->temp_dir_->File("ground_truth");

  testing::LaunchOptions options;
  options.argv.push_back(JitvmPath());
  options.argv.insert(options.argv.end(), jitvm_flags.begin(), jitvm_flags.end());
  options.argv.push_back(script);
  options.env = {"JITVM_GROUND_TRUTH=" + truth_path};
  options.working_dir = LuaDir();
  vm->child_ = testing::ChildProcess::Start(options, error);
  if (vm->child_ == nullptr) return nullptr;

  // stop_here writes the file (atomically) and then raises SIGSTOP.
  auto deadline = std::chrono::steady_clock::now() + kToolTimeout;
  while (!(access(truth_path.c_str(), R_OK) == 0 && ProcessState(vm->pid()) == 'T')) {
    if (!vm->child_->running()) {
      *error = "jitvm exited before vmtest.stop_here()\n" + vm->Describe();
      return nullptr;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      *error = "jitvm did not stop in vmtest.stop_here() in time\n" + vm->Describe();
      return nullptr;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  vm->ground_truth_ = ParseGroundTruth(ReadWholeFile(truth_path));
  return vm;
}

std::string StoppedJitvm::Describe() const {
  return "--- jitvm stdout ---\n" + child_->Stdout() + "\n--- jitvm stderr ---\n" + child_->Stderr();
}

}  // namespace jitscope::integration
