// Runs every tests/stdlib/cases/*.lua under jitvm and under the reference
// lua5.1 (with LuaBitOp preloaded as `bit`) and requires identical stdout and
// exit status. A case NAME.lua may come with NAME.stdin, fed to both.
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

struct RunResult {
  std::string out;
  int status = -1;
};

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') {
      q += "'\\''";
    } else {
      q += c;
    }
  }
  return q + "'";
}

RunResult run(const std::string& command) {
  RunResult r;
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return r;
}

std::string command_for(const std::string& interp_and_flags, const std::string& name) {
  fs::path dir(STDLIB_CASES_DIR);
  std::string stdin_file = (dir / (name + ".stdin")).string();
  std::string redirect = fs::exists(stdin_file) ? " < " + shell_quote(stdin_file) : " < /dev/null";
  // A fixed environment variable for os.getenv, and the C locale for both.
  return "cd " + shell_quote(dir.string()) + " && STDLIB_TEST_VAR=hello LC_ALL=C " +
         interp_and_flags + " " + shell_quote(name + ".lua") + redirect + " 2>/dev/null";
}

std::vector<std::string> list_cases() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(STDLIB_CASES_DIR, ec)) {
    if (e.path().extension() == ".lua") names.push_back(e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class LuaCompare : public ::testing::TestWithParam<std::string> {};

TEST_P(LuaCompare, SameStdoutAsLua51) {
  if (std::system("command -v lua5.1 > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "the reference interpreter lua5.1 is not installed";
  }
  if (std::system("lua5.1 -l bit -e '' > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "lua-bitop (require 'bit') is not installed for lua5.1";
  }
  const std::string& name = GetParam();
  RunResult ref = run(command_for("lua5.1 -l bit", name));
  RunResult got = run(command_for(shell_quote(JITVM_PATH), name));
  EXPECT_EQ(got.status, ref.status) << "exit status differs for " << name;
  EXPECT_EQ(got.out, ref.out) << "stdout differs for " << name;
}

INSTANTIATE_TEST_SUITE_P(Cases, LuaCompare, ::testing::ValuesIn(list_cases()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string n = info.param;
                           for (char& c : n) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return n;
                         });

}  // namespace
