#include "debugger_session.h"

#include <unistd.h>

#include <regex>

#include "harness/paths.h"
#include "harness/temp_dir.h"

namespace jitscope::integration {
namespace {

// Every pid the debugger printed for its inferior ("process 123" in gdb,
// "Process 123 stopped" in lldb).
std::vector<pid_t> InferiorPids(const std::string& output) {
  static const std::regex kPid(R"([Pp]rocess (\d+))");
  std::vector<pid_t> pids;
  for (auto it = std::sregex_iterator(output.begin(), output.end(), kPid); it != std::sregex_iterator(); ++it) {
    pids.push_back(static_cast<pid_t>(std::stol((*it)[1])));
  }
  return pids;
}

DebuggerRun RunDebugger(std::vector<std::string> argv, const std::vector<std::string>& jitvm_args) {
  testing::TempDir temp_dir;
  std::string truth_path = temp_dir.File("ground_truth");
  argv.push_back(JitvmPath());
  argv.insert(argv.end(), jitvm_args.begin(), jitvm_args.end());

  DebuggerRun run;
  run.result = RunInLuaDir(argv, {"JITVM_GROUND_TRUTH=" + truth_path});
  for (pid_t pid : InferiorPids(run.result.out + run.result.err)) KillLeftoverJitvm(pid);
  if (access(truth_path.c_str(), R_OK) == 0) run.ground_truth = ParseGroundTruth(ReadWholeFile(truth_path));
  return run;
}

}  // namespace

bool DebuggerRun::PtraceDenied() const {
  std::string all = result.out + result.err;
  for (const char* symptom : {"ptrace: Operation not permitted", "Could not trace the inferior process",
                              "launch failed: Operation not permitted"}) {
    if (all.find(symptom) != std::string::npos) return true;
  }
  return false;
}

std::string DebuggerRun::Describe() const {
  std::string text = result.Describe() + "\n--- ground truth (vmtest.stop_here) ---\n";
  for (const GroundTruthFrame& frame : ground_truth) text += frame.name + " " + frame.tier + "\n";
  return text;
}

DebuggerRun RunGdb(const std::vector<std::string>& commands, const std::vector<std::string>& jitvm_args) {
  std::vector<std::string> argv = {*testing::FindTool("gdb"), "-batch", "-nx", "-ex", "set pagination off",
                                   "-ex", "set width 0"};
  for (const std::string& command : commands) {
    argv.push_back("-ex");
    argv.push_back(command);
  }
  // Names the inferior's pid so a VM left behind can be found.
  argv.insert(argv.end(), {"-ex", "info inferiors", "--args"});
  return RunDebugger(argv, jitvm_args);
}

DebuggerRun RunLldb(const std::vector<std::string>& commands, const std::vector<std::string>& jitvm_args) {
  std::vector<std::string> argv = {*testing::FindTool("lldb"), "-b", "-o",
                                   "settings set plugin.jit-loader.gdb.enable on"};
  for (const std::string& command : commands) {
    argv.push_back("-o");
    argv.push_back(command);
  }
  argv.push_back("--");
  return RunDebugger(argv, jitvm_args);
}

}  // namespace jitscope::integration
