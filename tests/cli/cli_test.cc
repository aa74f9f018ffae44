// jitscope as a user runs it: exit codes, help texts, and ps/descriptor
// against a live stand-in JIT (jitscope_fake_jit).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <thread>
#include <nlohmann/json.hpp>

#include "harness/child_process.h"
#include "harness/paths.h"
#include "harness/tool_runner.h"

namespace jitscope {
namespace {

using testing::BinPath;
using testing::ChildProcess;
using testing::RunTool;
using testing::ToolResult;

constexpr auto kTimeout = std::chrono::seconds(60);

ToolResult Jitscope(std::vector<std::string> args) {
  args.insert(args.begin(), BinPath("jitscope"));
  return RunTool(args, kTimeout);
}

std::unique_ptr<ChildProcess> StartFakeJit(int entries) {
  testing::LaunchOptions options;
  options.argv = {BinPath("jitscope_fake_jit"), "--entries", std::to_string(entries)};
  std::string error;
  std::unique_ptr<ChildProcess> child = ChildProcess::Start(options, &error);
  EXPECT_NE(child, nullptr) << error;
  if (child != nullptr) {
    EXPECT_TRUE(child->WaitForOutput("ready", std::chrono::seconds(20))) << child->Stderr();
  }
  return child;
}

// A pid no process can have: above the kernel's pid_max.
std::string ImpossiblePid() {
  long pid_max = 4194304;
  std::ifstream("/proc/sys/kernel/pid_max") >> pid_max;
  return std::to_string(pid_max + 1);
}

TEST(CliTest, HelpListsEverySubcommand) {
  ToolResult result = Jitscope({"--help"});
  ASSERT_EQ(result.exit_code, 0) << result.Describe();
  for (const char* command : {"help", "version", "ps", "descriptor"}) {
    EXPECT_NE(result.out.find(std::string("  ") + command + " "), std::string::npos) << command << "\n" << result.out;
  }
  EXPECT_EQ(Jitscope({"help"}).out, result.out);
  EXPECT_EQ(Jitscope({"-h"}).out, result.out);
}

TEST(CliTest, HelpForEachCommandShowsItsUsage) {
  for (const char* command : {"version", "ps", "descriptor", "help"}) {
    ToolResult result = Jitscope({"help", command});
    ASSERT_EQ(result.exit_code, 0) << result.Describe();
    EXPECT_EQ(result.out.rfind(std::string("Usage: jitscope ") + command, 0), 0u) << result.out;
  }
  ToolResult inline_help = Jitscope({"descriptor", "--help"});
  EXPECT_EQ(inline_help.exit_code, 0);
  EXPECT_EQ(inline_help.out, Jitscope({"help", "descriptor"}).out);
}

TEST(CliTest, UsageErrorsExitTwoWithAClearMessage) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  std::vector<Case> cases = {
      {{}, "Usage: jitscope"},
      {{"frobnicate"}, "unknown command 'frobnicate'"},
      {{"--frobnicate"}, "unknown option '--frobnicate'"},
      {{"help", "frobnicate"}, "unknown command 'frobnicate'"},
      {{"ps", "--frobnicate"}, "unknown option '--frobnicate'"},
      {{"ps", "extra"}, "unexpected argument 'extra'"},
      {{"descriptor"}, "missing argument"},
      {{"descriptor", "abc"}, "'abc' is not a process id"},
      {{"descriptor", "1", "--address"}, "needs a value"},
      {{"descriptor", "1", "--address", "xyz"}, "not a hex address"},
      {{"version", "--json=1"}, "unknown option '--json'"},
  };
  for (const Case& c : cases) {
    ToolResult result = Jitscope(c.args);
    EXPECT_EQ(result.exit_code, 2) << result.Describe();
    EXPECT_NE(result.err.find(c.message), std::string::npos) << result.Describe();
  }
}

TEST(CliTest, Version) {
  ToolResult result = Jitscope({"version"});
  ASSERT_EQ(result.exit_code, 0) << result.Describe();
  EXPECT_EQ(result.out.rfind("jitscope ", 0), 0u);
  EXPECT_EQ(Jitscope({"--version"}).out, result.out);
}

TEST(CliTest, PsListsAProcessWithADescriptor) {
  std::unique_ptr<ChildProcess> child = StartFakeJit(3);
  ASSERT_NE(child, nullptr);
  std::string pid = std::to_string(child->pid());

  ToolResult table = Jitscope({"ps"});
  ASSERT_EQ(table.exit_code, 0) << table.Describe();
  EXPECT_EQ(table.out.rfind("PID", 0), 0u) << table.out;
  bool found = false;
  std::istringstream lines(table.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(pid + " ", 0) != 0) continue;
    found = true;
    EXPECT_NE(line.find("jitscope_fake_j"), std::string::npos) << line;  // comm is 15 chars
    EXPECT_NE(line.find("Android2"), std::string::npos) << line;
    EXPECT_NE(line.find(" 3 "), std::string::npos) << line;
  }
  EXPECT_TRUE(found) << table.out;

  ToolResult json_result = Jitscope({"ps", "--json"});
  ASSERT_EQ(json_result.exit_code, 0) << json_result.Describe();
  nlohmann::json rows = nlohmann::json::parse(json_result.out);
  found = false;
  for (const auto& row : rows) {
    if (row["pid"] != child->pid()) continue;
    found = true;
    EXPECT_EQ(row["magic"], "Android2");
    EXPECT_EQ(row["version"], 1);
    EXPECT_EQ(row["entries"], 3);
    EXPECT_EQ(row["module"], BinPath("jitscope_fake_jit"));
  }
  EXPECT_TRUE(found) << json_result.out;
}

TEST(CliTest, DescriptorDumpsHeaderAndEntries) {
  std::unique_ptr<ChildProcess> child = StartFakeJit(3);
  ASSERT_NE(child, nullptr);
  std::string pid = std::to_string(child->pid());

  ToolResult text = Jitscope({"descriptor", pid});
  ASSERT_EQ(text.exit_code, 0) << text.Describe();
  EXPECT_NE(text.out.find("variant           Android2"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("entries           3"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("action_flag       1 (register)"), std::string::npos) << text.out;

  ToolResult json_result = Jitscope({"descriptor", pid, "--json"});
  ASSERT_EQ(json_result.exit_code, 0) << json_result.Describe();
  nlohmann::json json = nlohmann::json::parse(json_result.out);
  EXPECT_EQ(json["pid"], child->pid());
  ASSERT_EQ(json["descriptors"].size(), 1u);
  const nlohmann::json& descriptor = json["descriptors"][0];
  EXPECT_EQ(descriptor["magic"], "Android2");
  EXPECT_EQ(descriptor["sizeof_descriptor"], 56);
  EXPECT_EQ(descriptor["sizeof_entry"], 48);
  EXPECT_EQ(descriptor["seqlock"], 6);
  EXPECT_NE(child->Stdout().find("descriptor=" + descriptor["address"].get<std::string>()), std::string::npos);
  ASSERT_EQ(descriptor["entries"].size(), 3u);
  uint64_t previous = UINT64_MAX;
  for (size_t i = 0; i < 3; i++) {
    const nlohmann::json& entry = descriptor["entries"][i];
    EXPECT_EQ(entry["symfile_size"], 64 + 16 * (2 - i));
    EXPECT_EQ(entry["seqlock"], 2);
    EXPECT_LT(entry["timestamp"].get<uint64_t>(), previous);
    previous = entry["timestamp"].get<uint64_t>();
  }
  EXPECT_EQ(descriptor["first_entry"], descriptor["entries"][0]["address"]);

  // Reading at a known address skips the symbol lookup.
  ToolResult by_address = Jitscope({"descriptor", pid, "--address", descriptor["address"].get<std::string>()});
  ASSERT_EQ(by_address.exit_code, 0) << by_address.Describe();
  EXPECT_NE(by_address.out.find("entries           3"), std::string::npos) << by_address.out;
}

TEST(CliTest, DescriptorOfAMissingProcess) {
  ToolResult result = Jitscope({"descriptor", ImpossiblePid()});
  EXPECT_EQ(result.exit_code, 1) << result.Describe();
  EXPECT_NE(result.err.find("process " + ImpossiblePid() + " does not exist"), std::string::npos)
      << result.Describe();
}

TEST(CliTest, DescriptorOfAProcessWithoutOne) {
  JITSCOPE_REQUIRE_TOOL(sleep, "sleep");
  testing::LaunchOptions options;
  options.argv = {sleep, "30"};
  std::string error;
  std::unique_ptr<ChildProcess> child = ChildProcess::Start(options, &error);
  ASSERT_NE(child, nullptr) << error;
  // Wait until exec has replaced our image: before that the child still maps
  // this test binary, which does define a descriptor.
  for (int i = 0; i < 2000; i++) {
    std::ifstream comm("/proc/" + std::to_string(child->pid()) + "/comm");
    std::string name;
    std::getline(comm, name);
    if (name == "sleep") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ToolResult result = Jitscope({"descriptor", std::to_string(child->pid())});
  EXPECT_EQ(result.exit_code, 1) << result.Describe();
  EXPECT_NE(result.err.find("has no mapped ELF file that defines __jit_debug_descriptor"), std::string::npos)
      << result.Describe();
}

TEST(CliTest, DescriptorAtABadAddress) {
  std::unique_ptr<ChildProcess> child = StartFakeJit(1);
  ASSERT_NE(child, nullptr);
  ToolResult result = Jitscope({"descriptor", std::to_string(child->pid()), "--address", "0x10"});
  EXPECT_EQ(result.exit_code, 1) << result.Describe();
  EXPECT_NE(result.err.find("cannot read descriptor at 0x10"), std::string::npos) << result.Describe();
}

}  // namespace
}  // namespace jitscope
