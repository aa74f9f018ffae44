// Reused addresses: with a small code cache reuse.lua compiles twelve hot
// functions one after another at the same address (the collector frees each
// before the next is compiled). A perf map cannot tell them apart; jitdump
// records are time-ordered, so after `perf inject --jit` each sample must
// carry the name of the function that occupied its address at its time.
#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <set>

#include "attribution.h"
#include "harness/temp_dir.h"
#include "jitdump_profile.h"
#include "perf_runner.h"

namespace jitscope::perf_test {
namespace {

constexpr double kMinAttributedPercent = 90.0;
constexpr int kMinSamplesInCode = 200;
// jitvm's smallest code cache (CodeCache::kMinCapacity): eviction and reuse
// as soon as possible.
constexpr const char* kCacheSize = "--jit-cache-size=65536";

TEST(AddressReuse, SamplesAreNamedByWhichFunctionHeldTheAddressAtTheirTime) {
  JITSCOPE_REQUIRE_PERF();
  testing::TempDir dir;
  std::string error;
  JitdumpProfileOptions options;
  options.script = "reuse.lua";
  options.jitvm_flags = {kCacheSize};
  std::optional<JitdumpProfile> profile = ProfileWithJitdump(dir.path(), options, &error);
  ASSERT_TRUE(profile) << error;

  std::string example;
  ASSERT_TRUE(profile->log.HasAddressReuse(&example)) << "the run reused no address, so it proves nothing";
  std::cout << "[address reuse] for example " << example << "\n";

  Attribution all = Attribute(profile->samples, profile->log, profile->pid);
  std::cout << "[address reuse] " << all.Describe() << "\n";
  EXPECT_GE(all.in_compiled_code, kMinSamplesInCode) << all.Describe();
  EXPECT_GE(all.Percent(), kMinAttributedPercent) << all.Describe();

  // The same rule restricted to addresses that held more than one name: the
  // samples that only time-ordered records can name right.
  std::map<uint64_t, std::set<std::string>> names_at;
  for (const CodeLifetime& c : profile->log.lifetimes()) names_at[c.addr].insert(c.name);
  std::vector<PerfSample> on_reused;
  for (const PerfSample& s : profile->samples) {
    const CodeLifetime* c = profile->log.Find(s.leaf().ip, s.ns);
    if (c != nullptr && names_at[c->addr].size() > 1) on_reused.push_back(s);
  }
  Attribution reused = Attribute(on_reused, profile->log, profile->pid);
  std::cout << "[address reuse] on reused addresses: " << reused.Describe() << "\n";
  EXPECT_GE(reused.in_compiled_code, kMinSamplesInCode) << reused.Describe();
  EXPECT_GE(reused.Percent(), kMinAttributedPercent) << reused.Describe();
  EXPECT_GE(reused.per_function.size(), 2u) << "samples on only one of the functions sharing an address\n"
                                            << reused.Describe();
}

}  // namespace
}  // namespace jitscope::perf_test
