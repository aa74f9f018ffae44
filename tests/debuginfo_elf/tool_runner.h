// Runs the outside tools (readelf, llvm-dwarfdump, xz, objcopy, gdb) that prove
// the writers' output is readable by everyone, not only by our own reader.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace jitscope::testing {

struct ToolResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

inline ToolResult RunTool(const std::string& command) {
  ToolResult result;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, n);
  int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

inline bool HaveTool(const std::string& name) {
  return RunTool("command -v " + name + " >/dev/null").exit_code == 0;
}

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/debuginfo_elf_XXXXXX";
    char* made = mkdtemp(pattern);
    path_ = made != nullptr ? made : "/tmp";
  }
  ~TempDir() { RunTool("rm -rf '" + path_ + "'"); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string Write(const std::string& name, const std::vector<uint8_t>& bytes) const {
    std::string file = path_ + "/" + name;
    std::ofstream out(file, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return file;
  }
  std::vector<uint8_t> Read(const std::string& name) const {
    std::ifstream in(path_ + "/" + name, std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace jitscope::testing
