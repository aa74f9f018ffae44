// `jitscope maps` and `jitscope symbolize` against a stopped jitvm, in every
// debug-info layout and frame-pointer setting: every function whose symbol
// file the VM registered (copied out independently by the test's own reader,
// registered_symfiles.cc) is listed in the JIT mapping with its exact start
// and size, and the start, middle and last byte of each one symbolize to it.
// Also: native addresses symbolize to their module, and the errors a user
// meets (no such process, no descriptor) are one clear line with exit 1.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "harness/child_process.h"
#include "harness/paths.h"
#include "harness/temp_dir.h"
#include "harness/tool_runner.h"
#include "modes_jitvm.h"
#include "registered_symfiles.h"

namespace jitscope::integration {
namespace {

std::string Hex(uint64_t value) {
  std::ostringstream text;
  text << "0x" << std::hex << value;
  return text.str();
}

class JitscopeMaps : public ::testing::TestWithParam<DebugMode> {};

TEST_P(JitscopeMaps, ListsAndSymbolizesEveryRegisteredFunction) {
  testing::TempDir dir;
  std::string log = dir.File("events.log");
  std::vector<std::string> flags = {"--jit-threshold=0", "--test-builtins", "--jit-event-log=" + log};
  flags.insert(flags.end(), GetParam().flags.begin(), GetParam().flags.end());
  std::string error;
  std::unique_ptr<StoppingJitvm> vm = StoppingJitvm::Start(flags, "flush.lua", &error);
  ASSERT_NE(vm, nullptr) << error;
  std::vector<RegisteredSymfile> files;
  ASSERT_TRUE(ReadRegisteredSymfiles(vm->pid(), &files, &error)) << error;
  std::map<uint64_t, ElfSymbol> expected;  // by address
  for (const RegisteredSymfile& file : files)
    for (const ElfSymbol& s : file.AllFunctions()) expected[s.value] = s;
  ASSERT_GT(expected.size(), 3u) << DescribeSymfiles(files);

  std::string jitscope = testing::BinPath("jitscope");
  testing::ToolResult maps = testing::RunTool({jitscope, "maps", std::to_string(vm->pid()), "--json"});
  ASSERT_EQ(maps.exit_code, 0) << maps.Describe();
  nlohmann::json doc = nlohmann::json::parse(maps.out);
  std::map<uint64_t, nlohmann::json> listed;
  std::string jit_path;
  for (const nlohmann::json& m : doc["mappings"]) {
    for (const nlohmann::json& f : m["jit_functions"]) {
      listed[std::stoull(f["start"].get<std::string>(), nullptr, 16)] = f;
      jit_path = m["path"].get<std::string>();
    }
  }
  EXPECT_EQ(jit_path, "/memfd:jit-cache") << "JIT functions must sit in the code cache's RX view";
  EXPECT_TRUE(doc["unmapped_jit_functions"].empty()) << maps.out;
  for (const auto& [address, symbol] : expected) {
    auto it = listed.find(address);
    ASSERT_NE(it, listed.end()) << symbol.name << " at " << Hex(address) << " is not listed\n" << maps.out;
    EXPECT_EQ(it->second["name"], symbol.name);
    EXPECT_EQ(it->second["size"].get<uint64_t>(), symbol.size) << symbol.name;
    EXPECT_EQ(it->second["tier"], "baseline") << symbol.name;  // jitvm's only compiled tier
  }
  EXPECT_EQ(listed.size(), expected.size()) << maps.out;
  // And against the VM's own event log: every function loaded and not freed.
  std::map<uint64_t, std::string> live;
  {
    std::ifstream in(log);
    for (std::string line; std::getline(in, line);) {
      std::istringstream f(line);
      std::string kind, ns, addr, size, name;
      f >> kind >> ns >> addr >> size;
      std::getline(f, name);
      uint64_t a = std::stoull(addr, nullptr, 16);
      if (kind == "load") live[a] = name.substr(1);
      if (kind == "free") live.erase(a);
    }
  }
  ASSERT_FALSE(live.empty()) << "empty event log";
  for (const auto& [address, name] : live) {
    auto it = listed.find(address);
    EXPECT_TRUE(it != listed.end() && it->second["name"] == name)
        << name << " at " << Hex(address) << " is live per the event log but not listed";
  }
  const nlohmann::json& totals = doc["debug_info"];
  EXPECT_EQ(totals["functions"].get<size_t>(), expected.size());
  uint64_t layout_bytes = GetParam().layout == DebugLayout::kUnpacked ? totals["unpacked_bytes"].get<uint64_t>()
                          : GetParam().layout == DebugLayout::kPacked ? totals["packed_bytes"].get<uint64_t>()
                                                                      : totals["compressed_bytes"].get<uint64_t>();
  EXPECT_GT(layout_bytes, 0u) << "no bytes in the mode's own layout: " << totals.dump();

  // Start, middle and last byte of every function.
  std::vector<std::string> argv = {jitscope, "symbolize", std::to_string(vm->pid()), "--json"};
  struct Probe {
    uint64_t address;
    uint64_t start;
    std::string name;
  };
  std::vector<Probe> probes;
  for (const auto& [address, symbol] : expected) {
    for (uint64_t a : {address, address + symbol.size / 2, address + symbol.size - 1}) {
      probes.push_back(Probe{a, address, symbol.name});
      argv.push_back(Hex(a));
    }
  }
  testing::ToolResult sym = testing::RunTool(argv);
  ASSERT_EQ(sym.exit_code, 0) << sym.Describe();
  nlohmann::json answers = nlohmann::json::parse(sym.out)["symbols"];
  ASSERT_EQ(answers.size(), probes.size());
  for (size_t i = 0; i < probes.size(); i++) {
    EXPECT_EQ(answers[i].value("function", "??"), probes[i].name) << "at " << Hex(probes[i].address);
    EXPECT_TRUE(answers[i].value("jit", false)) << answers[i].dump();
    EXPECT_EQ(answers[i].value("tier", ""), "baseline") << answers[i].dump();
    EXPECT_EQ(answers[i].value("offset", uint64_t{0}), probes[i].address - probes[i].start) << answers[i].dump();
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, JitscopeMaps, ::testing::ValuesIn(AllDebugModes()),
                         [](const ::testing::TestParamInfo<DebugMode>& info) { return std::string(info.param.name); });

TEST(JitscopeSymbolize, NativeAddressesNameTheirModule) {
  std::string error;
  std::unique_ptr<StoppingJitvm> vm =
      StoppingJitvm::Start({"--jit-threshold=0", "--test-builtins"}, "flush.lua", &error);
  ASSERT_NE(vm, nullptr) << error;
  // jitvm exports jit_h_call (ENABLE_EXPORTS): its address from our own
  // symbol table plus the VM's load bias.
  testing::ToolResult maps = testing::RunTool({testing::BinPath("jitscope"), "maps", std::to_string(vm->pid()), "--json"});
  ASSERT_EQ(maps.exit_code, 0) << maps.Describe();
  testing::ToolResult nm = testing::RunTool({"nm", "--defined-only", testing::BinPath("jitvm")});
  ASSERT_EQ(nm.exit_code, 0) << nm.Describe();
  uint64_t value = 0;
  std::istringstream lines(nm.out);
  for (std::string line; std::getline(lines, line);)
    if (line.size() > 19 && line.substr(17) == "T jit_h_call") value = std::stoull(line.substr(0, 16), nullptr, 16);
  ASSERT_NE(value, 0u) << "jit_h_call not in jitvm's symbol table";
  // The load bias: the mapping of the file at offset 0 (PIE).
  uint64_t bias = 0;
  {
    std::ifstream in("/proc/" + std::to_string(vm->pid()) + "/maps");
    for (std::string line; std::getline(in, line);) {
      if (line.find(testing::BinPath("jitvm")) == std::string::npos) continue;
      std::istringstream f(line);
      std::string range, perms, offset;
      f >> range >> perms >> offset;
      if (std::stoull(offset, nullptr, 16) == 0) {
        bias = std::stoull(range.substr(0, range.find('-')), nullptr, 16);
        break;
      }
    }
  }
  ASSERT_NE(bias, 0u);
  testing::ToolResult sym =
      testing::RunTool({testing::BinPath("jitscope"), "symbolize", std::to_string(vm->pid()), Hex(bias + value + 4)});
  ASSERT_EQ(sym.exit_code, 0) << sym.Describe();
  EXPECT_NE(sym.out.find("jit_h_call+0x4  (" + testing::BinPath("jitvm") + ")"), std::string::npos) << sym.out;
  // jitvm carries DWARF (RelWithDebInfo): the line comes from libdw.
  EXPECT_NE(sym.out.find("runtime/src/jit/jit_helpers.cc:"), std::string::npos) << sym.out;
}

// A third-party producer: LLVM's lli registers relocatable objects through a
// plain version-1 descriptor that lives in libLLVM-14.so.1.
TEST(JitscopeMaps, ListsTheFunctionsOfLli) {
  JITSCOPE_REQUIRE_TOOL(lli, "lli-14");
  testing::LaunchOptions options;
  options.argv = {lli, testing::SourcePath("tests/integration_modes/ir/sleep.ll")};
  std::string error;
  std::unique_ptr<testing::ChildProcess> child = testing::ChildProcess::Start(options, &error);
  ASSERT_NE(child, nullptr) << error;
  std::string jitscope = testing::BinPath("jitscope");
  testing::ToolResult maps;
  nlohmann::json doc;
  std::map<std::string, uint64_t> found;
  // lli registers its module before main runs, tens of ms after start.
  for (int i = 0; i < 200 && found.size() < 3; i++) {
    usleep(50 * 1000);
    maps = testing::RunTool({jitscope, "maps", std::to_string(child->pid()), "--json"});
    if (maps.exit_code != 0) continue;
    doc = nlohmann::json::parse(maps.out);
    found.clear();
    for (const nlohmann::json& m : doc["mappings"])
      for (const nlohmann::json& f : m["jit_functions"])
        found[f["name"].get<std::string>()] = std::stoull(f["start"].get<std::string>(), nullptr, 16);
  }
  ASSERT_EQ(found.size(), 3u) << maps.Describe();
  for (const char* name : {"main", "work", "helper"}) EXPECT_TRUE(found.count(name)) << name << "\n" << maps.out;
  EXPECT_FALSE(doc["synchronized"].get<bool>()) << "a plain GDB descriptor has no seqlock";
  ASSERT_EQ(doc["descriptors"].size(), 1u);
  EXPECT_EQ(doc["descriptors"][0]["variant"], "gdb-v1");
  EXPECT_NE(doc["descriptors"][0]["module"].get<std::string>().find("libLLVM-14.so"), std::string::npos);
  testing::ToolResult sym = testing::RunTool(
      {jitscope, "symbolize", std::to_string(child->pid()), Hex(found["work"] + 1)});
  ASSERT_EQ(sym.exit_code, 0) << sym.Describe();
  EXPECT_NE(sym.out.find("work+0x1  [jit]"), std::string::npos) << sym.out;

  // --stop: the copy is made with every thread frozen by ptrace, so it is
  // consistent; the target runs on afterwards.
  testing::ToolResult stopped = testing::RunTool({jitscope, "maps", std::to_string(child->pid()), "--stop", "--json"});
  ASSERT_EQ(stopped.exit_code, 0) << stopped.Describe();
  nlohmann::json sdoc = nlohmann::json::parse(stopped.out);
  EXPECT_TRUE(sdoc["stopped_during_read"].get<bool>());
  EXPECT_TRUE(sdoc["synchronized"].get<bool>());
  size_t n = 0;
  for (const nlohmann::json& m : sdoc["mappings"]) n += m["jit_functions"].size();
  EXPECT_EQ(n, 3u) << stopped.out;
  usleep(100 * 1000);
  EXPECT_TRUE(child->running()) << "lli must run on after --stop";
  std::string state;
  {
    std::ifstream stat("/proc/" + std::to_string(child->pid()) + "/stat");
    std::getline(stat, state);
  }
  EXPECT_EQ(state.substr(state.rfind(')') + 2, 1), "S") << "lli should be back asleep in sleep(30): " << state;
}

// A snapshot taken from a live VM answers maps, symbolize and disasm exactly
// as the VM did, after the VM is gone; a damaged snapshot is a clear error.
TEST(JitscopeSnapshot, ServesMapsSymbolizeAndDisasmAfterTheTargetIsGone) {
  testing::TempDir dir;
  std::string file = dir.File("vm.jss");
  std::string jitscope = testing::BinPath("jitscope");
  std::string live_maps, live_disasm, live_sym, name, start;
  {
    std::string error;
    std::unique_ptr<StoppingJitvm> vm = StoppingJitvm::Start(
        {"--jit-threshold=0", "--test-builtins", "--jit-debug=full"}, "flush.lua", &error);
    ASSERT_NE(vm, nullptr) << error;
    std::string pid = std::to_string(vm->pid());
    testing::ToolResult maps = testing::RunTool({jitscope, "maps", pid, "--json"});
    ASSERT_EQ(maps.exit_code, 0) << maps.Describe();
    nlohmann::json doc = nlohmann::json::parse(maps.out);
    for (const nlohmann::json& m : doc["mappings"])
      for (const nlohmann::json& f : m["jit_functions"])
        if (f["name"].get<std::string>().rfind("keep_inner@", 0) == 0) {
          name = f["name"];
          start = f["start"];
        }
    ASSERT_FALSE(name.empty()) << maps.out;
    live_maps = doc["mappings"].dump();
    testing::ToolResult dis = testing::RunTool({jitscope, "disasm", pid, name, "--json"});
    ASSERT_EQ(dis.exit_code, 0) << dis.Describe();
    live_disasm = dis.out;
    EXPECT_NE(dis.out.find("\"source\": \""), std::string::npos) << "full mode interleaves source lines";
    EXPECT_NE(dis.out.find("\"source_text\": \"local function keep_inner"), std::string::npos)
        << "the source descriptor gives the text of the lines\n" << dis.out;
    testing::ToolResult sym = testing::RunTool({jitscope, "symbolize", pid, start, "--json"});
    live_sym = nlohmann::json::parse(sym.out)["symbols"].dump();
    testing::ToolResult snap = testing::RunTool({jitscope, "snapshot", pid, "-o", file});
    ASSERT_EQ(snap.exit_code, 0) << snap.Describe();
  }  // the VM is killed here
  testing::ToolResult maps = testing::RunTool({jitscope, "maps", file, "--json"});
  ASSERT_EQ(maps.exit_code, 0) << maps.Describe();
  EXPECT_EQ(nlohmann::json::parse(maps.out)["mappings"].dump(), live_maps);
  testing::ToolResult dis = testing::RunTool({jitscope, "disasm", file, name, "--json"});
  ASSERT_EQ(dis.exit_code, 0) << dis.Describe();
  EXPECT_EQ(dis.out, live_disasm);
  testing::ToolResult sym = testing::RunTool({jitscope, "symbolize", file, start, "--json"});
  ASSERT_EQ(sym.exit_code, 0) << sym.Describe();
  EXPECT_EQ(nlohmann::json::parse(sym.out)["symbols"].dump(), live_sym);

  // Damaged copies: truncated, and garbage after the magic.
  std::ifstream in(file, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (size_t cut : {size_t{4}, size_t{40}, bytes.size() / 2, bytes.size() - 1}) {
    std::string damaged = dir.File("cut.jss");
    std::ofstream(damaged, std::ios::binary) << bytes.substr(0, cut);
    testing::ToolResult r = testing::RunTool({jitscope, "maps", damaged});
    EXPECT_TRUE(r.exit_code == 1 || r.exit_code == 2) << "cut at " << cut << ": " << r.Describe();
    EXPECT_FALSE(r.err.empty()) << "cut at " << cut;
  }
  std::string garbage = dir.File("garbage.jss");
  std::ofstream(garbage, std::ios::binary) << bytes.substr(0, 32) << std::string(bytes.size() - 32, 'x');
  testing::ToolResult r = testing::RunTool({jitscope, "maps", garbage});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_NE(r.err.find("corrupt snapshot"), std::string::npos) << r.err;
}

TEST(JitscopeMaps, ClearErrors) {
  std::string jitscope = testing::BinPath("jitscope");
  // A pid that cannot exist (above pid_max's hard limit).
  testing::ToolResult gone = testing::RunTool({jitscope, "maps", "4194305"});
  EXPECT_EQ(gone.exit_code, 1) << gone.Describe();
  EXPECT_NE(gone.err.find("does not exist"), std::string::npos) << gone.err;
  // A process without a JIT: this test itself.
  testing::ToolResult none = testing::RunTool({jitscope, "maps", std::to_string(getpid())});
  EXPECT_EQ(none.exit_code, 1) << none.Describe();
  EXPECT_NE(none.err.find("no JIT descriptor"), std::string::npos) << none.err;
  testing::ToolResult bad = testing::RunTool({jitscope, "symbolize", std::to_string(getpid()), "xyz"});
  EXPECT_EQ(bad.exit_code, 2) << bad.Describe();
}

}  // namespace
}  // namespace jitscope::integration
