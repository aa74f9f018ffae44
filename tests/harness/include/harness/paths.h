// Where the build put things, and which outside tools this machine has.
#pragma once

#include <optional>
#include <string>

namespace jitscope::testing {

// build/bin/NAME of the build that compiled this test.
std::string BinPath(const std::string& name);
// A path inside the source tree.
std::string SourcePath(const std::string& relative);
// Full path of an executable found in PATH.
std::optional<std::string> FindTool(const std::string& name);

}  // namespace jitscope::testing

// Skips the current test when the machine lacks a tool, saying so; binds
// the tool's full path to `var` otherwise. Use at the top of a TEST body.
#define JITSCOPE_REQUIRE_TOOL(var, name)                                              \
  std::string var;                                                                    \
  if (auto jitscope_found_tool_ = ::jitscope::testing::FindTool(name)) {              \
    var = *jitscope_found_tool_;                                                      \
  } else {                                                                            \
    GTEST_SKIP() << "this machine lacks '" << (name) << "' in PATH (run scripts/install-deps)"; \
  }
