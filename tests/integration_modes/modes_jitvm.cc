#include "modes_jitvm.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <thread>

#include "harness/paths.h"

namespace jitscope::integration {
namespace {

constexpr std::chrono::milliseconds kPollInterval(10);

// State letter from /proc/PID/stat ('T' = stopped); the command name may
// hold spaces and parentheses, so the state follows the last ')'.
char ProcessState(pid_t pid) {
  std::string stat = ReadWholeFile("/proc/" + std::to_string(pid) + "/stat");
  size_t paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat.size()) return '?';
  return stat[paren + 2];
}

}  // namespace

const std::vector<DebugMode>& AllDebugModes() {
  // Compression "on" only compresses after code GC; "always" compresses
  // every packed group at once, so a test sees compressed groups without
  // having to free code first.
  static const std::vector<DebugMode> kModes = {
      {DebugLayout::kUnpacked, "unpacked", {"--jit-debug=mini", "--jit-debug-pack=off"}},
      {DebugLayout::kPacked, "packed", {"--jit-debug=mini", "--jit-debug-pack=on", "--jit-debug-compress=off"}},
      {DebugLayout::kCompressed,
       "compressed",
       {"--jit-debug=mini", "--jit-debug-pack=on", "--jit-debug-compress=always"}},
  };
  return kModes;
}

const DebugMode& ModeFor(DebugLayout layout) {
  for (const DebugMode& mode : AllDebugModes()) {
    if (mode.layout == layout) return mode;
  }
  return AllDebugModes().front();
}

std::string ModesScriptPath(const std::string& name) {
  return testing::SourcePath("tests/integration_modes/lua/" + name);
}

std::string LuaFunctionName(const std::string& script, const std::string& fname) {
  std::ifstream file(ModesScriptPath(script));
  std::string needle = "local function " + fname + "(";
  int number = 0;
  for (std::string line; std::getline(file, line);) {
    number++;
    if (line.find(needle) != std::string::npos) return fname + "@" + script + ":" + std::to_string(number);
  }
  return "";
}

std::unique_ptr<StoppingJitvm> StoppingJitvm::Start(const std::vector<std::string>& jitvm_flags,
                                                    const std::string& script, std::string* error) {
  std::unique_ptr<StoppingJitvm> vm(new StoppingJitvm());
  vm->temp_dir_ = std::make_unique<testing::TempDir>();
  vm->truth_path_ = vm->temp_dir_->File("ground_truth");

  testing::LaunchOptions options;
  options.argv.push_back(JitvmPath());
  options.argv.insert(options.argv.end(), jitvm_flags.begin(), jitvm_flags.end());
  options.argv.push_back(ModesScriptPath(script));
  options.env = {"JITVM_GROUND_TRUTH=" + vm->truth_path_};
  vm->child_ = testing::ChildProcess::Start(options, error);
  if (vm->child_ == nullptr) return nullptr;
  if (!vm->WaitForStop(error)) return nullptr;
  return vm;
}

bool StoppingJitvm::ContinueToNextStop(std::string* error) {
  // stop_here writes the file again (atomically) before it stops, so its
  // reappearance marks the next stop; SIGCONT resumes the process as it
  // is sent, so the old stop cannot be mistaken for the new one.
  std::remove(truth_path_.c_str());
  if (kill(pid(), SIGCONT) != 0) {
    *error = "cannot continue jitvm";
    return false;
  }
  return WaitForStop(error);
}

bool StoppingJitvm::WaitForStop(std::string* error) {
  auto deadline = std::chrono::steady_clock::now() + kToolTimeout;
  while (!(access(truth_path_.c_str(), R_OK) == 0 && ProcessState(pid()) == 'T')) {
    if (!child_->running()) {
      *error = "jitvm exited before vmtest.stop_here()\n" + Describe();
      return false;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      *error = "jitvm did not stop in vmtest.stop_here() in time\n" + Describe();
      return false;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  ground_truth_ = ParseGroundTruth(ReadWholeFile(truth_path_));
  return true;
}

std::string StoppingJitvm::Describe() const {
  return "--- jitvm stdout ---\n" + child_->Stdout() + "\n--- jitvm stderr ---\n" + child_->Stderr();
}

testing::ToolResult AttachGdb(const std::string& gdb, pid_t pid, const std::vector<std::string>& commands) {
  std::vector<std::string> argv = {gdb, "-batch", "-nx", "-p", std::to_string(pid), "-ex", "set width 0",
                                   "-ex", "set pagination off"};
  for (const std::string& command : commands) {
    argv.push_back("-ex");
    argv.push_back(command);
  }
  return testing::RunTool(argv, kToolTimeout);
}

testing::ToolResult AttachLldb(const std::string& lldb, pid_t pid, const std::vector<std::string>& commands) {
  // The JIT loader reads the descriptor when the process is attached, so
  // it must be enabled before (-O runs before the target is created).
  std::vector<std::string> argv = {lldb, "-b", "-O", "settings set plugin.jit-loader.gdb.enable on", "-o",
                                   "process attach --pid " + std::to_string(pid)};
  for (const std::string& command : commands) {
    argv.push_back("-o");
    argv.push_back(command);
  }
  argv.insert(argv.end(), {"-o", "process detach"});
  return testing::RunTool(argv, kToolTimeout);
}

bool PtraceDenied(const testing::ToolResult& result) {
  std::string all = result.out + result.err;
  for (const char* symptom : {"ptrace: Operation not permitted", "Could not trace the inferior process",
                              "attach failed: Operation not permitted"}) {
    if (all.find(symptom) != std::string::npos) return true;
  }
  return false;
}

std::vector<DebuggerFrame> ThreadWithFrame(const std::string& gdb_output, const std::string& marker) {
  for (const std::vector<DebuggerFrame>& frames : ParseGdbThreadBacktraces(gdb_output)) {
    for (const DebuggerFrame& frame : frames) {
      if (frame.function.find(marker) != std::string::npos) return frames;
    }
  }
  return {};
}

std::string MissingInOrder(const std::vector<std::string>& names, const std::vector<std::string>& expected) {
  size_t next = 0;
  for (const std::string& name : names) {
    if (next < expected.size() && name == expected[next]) next++;
  }
  if (next == expected.size()) return "";
  return "'" + expected[next] + "' is missing (or out of order) after " +
         (next == 0 ? std::string("the start") : "'" + expected[next - 1] + "'");
}

}  // namespace jitscope::integration
