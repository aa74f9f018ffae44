// A fresh directory under $TMPDIR (or /tmp), removed with its contents.
#pragma once

#include <string>

namespace jitscope::testing {

class TempDir {
 public:
  TempDir();  // aborts the test binary if mkdtemp fails: nothing can work then
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace jitscope::testing
