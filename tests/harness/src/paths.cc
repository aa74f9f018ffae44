#include "harness/paths.h"

#include <unistd.h>

#include <cstdlib>
#include <sstream>

namespace jitscope::testing {

std::string BinPath(const std::string& name) { return std::string(JITSCOPE_BIN_DIR) + "/" + name; }

std::string SourcePath(const std::string& relative) { return std::string(JITSCOPE_SOURCE_DIR) + "/" + relative; }

std::optional<std::string> FindTool(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    return access(name.c_str(), X_OK) == 0 ? std::optional<std::string>(name) : std::nullopt;
  }
  const char* path = getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    std::string candidate = dir + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

}  // namespace jitscope::testing
