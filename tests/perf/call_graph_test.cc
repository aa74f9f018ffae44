// DWARF call graphs through compiled code: call_graph.lua's callee, called
// only from its caller, run with frame pointers off, recorded with
// `--call-graph dwarf`. perf can only get from the callee's frame to the
// caller's with the CFI that jitdump's UNWINDING_INFO put into the jitted
// DSOs. The leaf is judged by the event log (from the absolute ips that
// `perf script -G` prints), the chain by perf script's indented frames.
#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <utility>

#include "attribution.h"
#include "harness/temp_dir.h"
#include "jitdump_profile.h"
#include "perf_runner.h"

namespace jitscope::perf_test {
namespace {

constexpr double kMinCallerFoundPercent = 80.0;
// 1 kHz keeps 8 KiB stack copies per sample (~12 MB for the run) quick to
// unwind and still gives ~1500 samples in the callee.
constexpr int kCallGraphFrequency = 1000;
constexpr int kMinCalleeSamples = 200;

TEST(CallGraphDwarf, SamplesInTheCalleeUnwindToTheCaller) {
  JITSCOPE_REQUIRE_PERF();
  testing::TempDir dir;
  std::string error;
  JitdumpProfileOptions options;
  options.script = "call_graph.lua";
  options.jitvm_flags = {"--jit-frame-pointers=off"};
  options.record_flags = {"--call-graph", "dwarf"};
  options.frequency = kCallGraphFrequency;
  options.hide_call_graph = true;
  std::optional<JitdumpProfile> profile = ProfileWithJitdump(dir.path(), options, &error);
  ASSERT_TRUE(profile) << error;
  std::string callee = profile->log.NameOf("callee");
  std::string caller = profile->log.NameOf("caller");
  ASSERT_FALSE(callee.empty() || caller.empty()) << "callee or caller was never compiled";

  std::optional<std::vector<PerfSample>> chains = PerfScriptSamples(profile->injected, /*hide_call_graph=*/false,
                                                                    &error);
  ASSERT_TRUE(chains) << error;
  // The same sample in both runs: same thread, same time.
  std::map<std::pair<int, uint64_t>, const PerfSample*> chain_of;
  for (const PerfSample& s : *chains) chain_of[{s.tid, s.ns}] = &s;

  int in_callee = 0, with_caller = 0, leaf_named = 0, no_chain = 0;
  std::map<std::string, int> chains_without_caller;  // the chain's symbols, for the failure message
  for (const PerfSample& leaf : profile->samples) {
    if (leaf.pid != profile->pid) continue;
    const CodeLifetime* truth = profile->log.Find(leaf.leaf().ip, leaf.ns);
    if (truth == nullptr || truth->name != callee) continue;
    in_callee++;
    auto it = chain_of.find({leaf.tid, leaf.ns});
    if (it == chain_of.end()) {
      no_chain++;
      continue;
    }
    const PerfSample& chain = *it->second;
    if (chain.leaf().sym == callee) leaf_named++;
    if (chain.CallerNamed(caller)) {
      with_caller++;
    } else {
      std::string symbols;
      for (const PerfFrame& f : chain.frames) symbols += (symbols.empty() ? "" : " <- ") + f.sym;
      chains_without_caller[symbols]++;
    }
  }
  double percent = in_callee == 0 ? 0.0 : 100.0 * with_caller / in_callee;
  std::string summary = std::to_string(with_caller) + " of " + std::to_string(in_callee) + " samples in " + callee +
                        " have " + caller + " above them (" + std::to_string(percent) + "%); the leaf is named " +
                        callee + " in " + std::to_string(leaf_named) +
                        "; without any chain: " + std::to_string(no_chain);
  std::string examples;
  for (const auto& [symbols, count] : chains_without_caller) {
    if (examples.size() > 2000) break;
    examples += "\n  " + std::to_string(count) + " x " + symbols;
  }
  std::cout << "[call graph] " << summary << "\n";
  EXPECT_GE(in_callee, kMinCalleeSamples) << summary;
  EXPECT_GE(percent, kMinCallerFoundPercent) << summary << "\nchains without the caller:" << examples;
}

}  // namespace
}  // namespace jitscope::perf_test
