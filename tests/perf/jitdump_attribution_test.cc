// perf names jitvm's compiled code right through jitdump: hot.lua under
// `perf record -k 1`, `perf inject --jit`, and every sample whose ip the
// event log puts inside a live compiled function must carry that function's
// name in perf script (at least 90% of them; a few samples land between the
// moment code is installed and the moment perf learns of it).
#include <gtest/gtest.h>

#include <iostream>

#include "attribution.h"
#include "harness/temp_dir.h"
#include "jitdump_profile.h"
#include "perf_runner.h"

namespace jitscope::perf_test {
namespace {

constexpr double kMinAttributedPercent = 90.0;
constexpr int kMinSamplesInCode = 200;
// Each hot function runs 0.5 s at 4 kHz; fewer than this means the script
// or the sampling is broken, not the naming.
constexpr int kMinSamplesPerHotFunction = 100;

TEST(JitdumpAttribution, PerfNamesSamplesInCompiledCodeByTheEventLog) {
  JITSCOPE_REQUIRE_PERF();
  testing::TempDir dir;
  std::string error;
  JitdumpProfileOptions options;
  options.script = "hot.lua";
  std::optional<JitdumpProfile> profile = ProfileWithJitdump(dir.path(), options, &error);
  ASSERT_TRUE(profile) << error;

  Attribution result = Attribute(profile->samples, profile->log, profile->pid);
  std::cout << "[jitdump attribution] " << result.Describe() << "\n";
  RecordProperty("attributed_percent", std::to_string(result.Percent()));
  EXPECT_GE(result.in_compiled_code, kMinSamplesInCode) << result.Describe();
  EXPECT_GE(result.Percent(), kMinAttributedPercent) << result.Describe();
  for (const char* lua_name : {"fib", "sum_squares", "harmonic"}) {
    std::string name = profile->log.NameOf(lua_name);
    ASSERT_FALSE(name.empty()) << lua_name << " was never compiled";
    EXPECT_GE(result.per_function[name], kMinSamplesPerHotFunction) << result.Describe();
  }
}

}  // namespace
}  // namespace jitscope::perf_test
