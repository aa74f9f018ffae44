// The compiler must produce exactly Lua 5.1's bytecode and error messages. The
// reference is the real luac5.1: its `-l -l` listing is compared line for line
// with dump_bytecode (addresses aside), and its `-p` errors with ours.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "api.h"
#include "dump.h"
#include "opcodes.h"

namespace jitvm {
namespace {

namespace fs = std::filesystem;

constexpr const char* kLuac = "luac5.1";

// One VM for the whole test program: compiling never runs the collector.
class StateEnv : public ::testing::Environment {
 public:
  void SetUp() override { state = state_new(); }
  void TearDown() override {
    if (state) state_close(state);
    state = nullptr;
  }
  static inline State* state = nullptr;
};
[[maybe_unused]] const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new StateEnv);

struct CommandResult {
  int status = -1;
  std::string output;  // stdout and stderr together
};

CommandResult run_command(const std::string& cmd) {
  CommandResult r;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

bool have_luac() {
  static const bool ok = run_command(std::string(kLuac) + " -v").status == 0;
  return ok;
}

// The file as luaL_loadfile reads it: a first line starting with '#' is
// dropped but its newline kept, so line numbers do not move.
std::string read_source(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  if (!s.empty() && s[0] == '#') {
    size_t nl = s.find('\n');
    s = nl == std::string::npos ? std::string() : s.substr(nl);
  }
  return s;
}

std::string normalize_addresses(const std::string& s) {
  static const std::regex kAddr("0x[0-9a-fA-F]+");
  return std::regex_replace(s, kAddr, "0xADDR");
}

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> lines;
  std::stringstream ss(s);
  std::string line;
  while (std::getline(ss, line)) lines.push_back(line);
  return lines;
}

// Reports the first differing line with some context instead of two whole listings.
::testing::AssertionResult same_listing(const std::string& expected, const std::string& actual) {
  if (expected == actual) return ::testing::AssertionSuccess();
  auto e = split_lines(expected), a = split_lines(actual);
  size_t i = 0;
  while (i < e.size() && i < a.size() && e[i] == a[i]) i++;
  std::ostringstream msg;
  msg << "listings differ at line " << i + 1 << "\n";
  size_t from = i >= 4 ? i - 4 : 0;
  for (size_t j = from; j < i; j++) msg << "    " << e[j] << "\n";
  msg << "luac: " << (i < e.size() ? e[i] : "<end>") << "\n";
  msg << "ours: " << (i < a.size() ? a[i] : "<end>") << "\n";
  return ::testing::AssertionFailure() << msg.str();
}

struct CompileResult {
  Proto* proto = nullptr;
  std::string error;
};

CompileResult compile(const std::string& src, const std::string& chunkname) {
  CompileResult r;
  r.proto = compile_chunk(StateEnv::state, src.data(), src.size(), chunkname.c_str(), &r.error);
  return r;
}

// ---- bytecode identity ------------------------------------------------------------

std::vector<std::string> case_files() {
  std::vector<std::string> files;
  std::error_code ec;
  for (const char* dir : {JITVM_COMPILER_CASES_DIR, JITVM_LUA_TESTS_DIR}) {
    if (!fs::is_directory(dir, ec)) continue;
    for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (ec) break;
      if (it->is_regular_file() && it->path().extension() == ".lua") files.push_back(it->path().string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string case_name(const std::string& path) {
  std::string rel = path;
  for (const char* dir : {JITVM_COMPILER_CASES_DIR, JITVM_LUA_TESTS_DIR}) {
    std::string d = dir;
    if (rel.compare(0, d.size(), d) == 0) {
      rel = (d == JITVM_COMPILER_CASES_DIR ? "cases" : "lua") + rel.substr(d.size());
      break;
    }
  }
  for (char& c : rel) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return rel;
}

class LuacIdentity : public ::testing::TestWithParam<std::string> {};
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(LuacIdentity);

TEST_P(LuacIdentity, SameBytecodeOrSameError) {
  if (!have_luac()) GTEST_SKIP() << kLuac << " is not installed: no reference to compare with";
  fs::path path(GetParam());
  std::string name = path.filename().string();
  CommandResult ref = run_command("cd " + shell_quote(path.parent_path().string()) + " && " + kLuac +
                                  " -l -l -p " + shell_quote(name));
  CompileResult ours = compile(read_source(path), "@" + name);
  if (ref.status == 0) {
    ASSERT_NE(ours.proto, nullptr) << "luac compiles it, we fail: " << ours.error;
    EXPECT_TRUE(same_listing(normalize_addresses(ref.output), normalize_addresses(dump_bytecode(ours.proto))));
  } else {
    ASSERT_EQ(ours.proto, nullptr) << "luac rejects it: " << ref.output;
    EXPECT_EQ(ref.output, std::string(kLuac) + ": " + ours.error + "\n");
  }
}

INSTANTIATE_TEST_SUITE_P(Files, LuacIdentity, ::testing::ValuesIn(case_files()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return case_name(info.param); });

// ---- generated sources and syntax errors against luac ----------------------------------------------------

struct SourceCase {
  const char* name;
  std::string source;
};

std::string repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; i++) out += s;
  return out;
}

std::string many_locals(int n) {
  std::string s;
  for (int i = 0; i < n; i++) s += "local v" + std::to_string(i) + " = " + std::to_string(i) + "\n";
  return s;
}

std::string many_upvalues(int n) {
  std::string s = many_locals(n);
  s += "local function f()\n  return ";
  for (int i = 0; i < n; i++) s += (i ? ", v" : "v") + std::to_string(i);
  return s + "\nend\n";
}

std::string many_args(int n) {
  std::string s = "f(";
  for (int i = 0; i < n; i++) s += (i ? ", " : "") + std::to_string(i);
  return s + ")\n";
}

std::string many_targets(int n) {
  std::string s;
  for (int i = 0; i < n; i++) s += (i ? ", a" : "a") + std::to_string(i);
  return s + " = 1\n";
}

std::string list_of(int n, const std::string& item) {
  std::string s;
  for (int i = 0; i < n; i++) s += (i ? ", " : "") + item;
  return s;
}

std::string nested_functions(int depth) {
  std::string s;
  for (int i = 0; i < depth; i++) s += "local v" + std::to_string(i) + " = function(p" + std::to_string(i) + ")\n";
  s += "return ";
  for (int i = 0; i < depth; i++) s += (i ? " + p" : "p") + std::to_string(i);
  s += "\n";
  for (int i = 0; i < depth; i++) s += "end\n";
  return s;
}

// Shapes too large to keep as files under cases/.
std::vector<SourceCase> generated_cases() {
  return {
      {"setlist_block_number_overflows_c", "local t = {" + list_of(26000, "1") + "}\n"},
      {"setlist_overflow_with_vararg", "local t = {" + list_of(25560, "2") + ", ...}\n"},
      {"constructor_size_encoding", "local t = {" + list_of(1000, "3") + ", " + list_of(300, "x = 1") + "}\n"},
      {"nested_functions", nested_functions(40)},
      {"long_concat", "local a = 'x'\nlocal s = " + repeat("a .. ", 150) + "a\n"},
      {"long_and_chain", "local a = 1\nlocal s = " + repeat("a and ", 150) + "a\n"},
      {"long_or_chain_in_if", "local a = 1\nif " + repeat("a or ", 150) + "a then a = 2 end\n"},
      {"many_args_below_limit", many_args(240)},
      {"many_locals_at_limit", many_locals(200)},
      {"many_upvalues_at_limit", many_upvalues(60)},
      {"crlf_lines", "local a = 1\r\nlocal b = [[x\r\ny]]\r\n\r\nprint(a,\r\n b)\r\n"},
      {"lfcr_lines", "local a = 1\n\rlocal b = 'q\\\n\rz'\n\rprint(a, b)\n\r"},
      {"cr_lines", "local a = 1\rlocal b = 2\r\rprint(a, b)\r"},
      {"exotic_numbers", "local a, b, c, d, e = 0x1p4, 1e500, 0x7fffffff, 0xffffffffffff, 1e-500\n"},
      {"embedded_nul_in_string", "local s = \"a\\0b\" .. '" + std::string(1, '\0') + "'\n"},
      {"no_trailing_newline", "return 1"},
      {"only_return", "return"},
  };
}

std::vector<SourceCase> error_cases() {
  return {
      {"double_equals", "x = = 1\n"},
      {"missing_equals", "local a\n\nlocal b c\n"},
      {"missing_name", "local function end\n"},
      {"eof_in_expr", "a = 1 +"},
      {"open_call", "f(1, 2"},
      {"open_call_multiline", "f(1,\n2\n3)"},
      {"for_missing", "for i do end"},
      {"function_unclosed", "function f()\n  return 1\n"},
      {"if_unclosed", "if x then\n\n"},
      {"while_unclosed_same_line", "while x do"},
      {"unfinished_string_newline", "x = \"abc\ny = 1\n"},
      {"unfinished_string_eof", "x = 'abc"},
      {"malformed_number", "x = 3x\n"},
      {"malformed_hex", "x = 0x\n"},
      {"malformed_exponent", "x = 1e\n"},
      {"malformed_dots", "x = 1..2\n"},
      {"ambiguous_call", "local f = print\nf\n(g)\n"},
      {"vararg_outside", "function f() return ... end\n"},
      {"break_outside", "break\n"},
      {"break_in_function_in_loop", "while 1 do local f = function() break end end\n"},
      {"unfinished_long_string", "x = [==[ abc\n ]] ]=]"},
      {"unfinished_long_comment", "--[[ abc\n\n"},
      {"invalid_long_delimiter", "x = [=abc\n"},
      {"escape_too_large", "x = \"a\\300\"\n"},
      {"nested_long_string", "x = [[ a [[ b ]] ]]\n"},
      {"nested_long_comment", "--[[ a [[ b ]]\n"},
      {"statement_after_return", "return return\n"},
      {"statement_after_break", "while 1 do break x = 1 end\n"},
      {"attrib_syntax", "local x <const> = 1\n"},
      {"method_not_called", "a.b:c = 1\n"},
      {"assign_to_call", "f() = 1\n"},
      {"assign_to_paren", "(a) = 1\n"},
      {"stray_brace", "x = }\n"},
      {"table_missing_sep", "x = {1 2}\n"},
      {"table_unclosed_multiline", "x = {\n1,\n2\n"},
      {"control_char", "x = 1 \x01\n"},
      {"at_sign", "@\n"},
      {"high_byte", "x = \xe9\n"},
      {"nul_byte", std::string("x = 1\n\0\n", 8)},
      {"local_number", "local 1\n"},
      {"param_trailing_comma", "x = function(a,) end\n"},
      {"param_after_vararg", "x = function(..., a) end\n"},
      {"extra_end", "while true do end end\n"},
      {"elseif_after_else", "if x then else elseif y then end\n"},
      {"until_missing", "repeat x = 1\n"},
      {"goto_is_a_name", "goto label\n"},
      {"missing_then", "if x print(1) end\n"},
      {"missing_do", "for i = 1, 2 print(i) end\n"},
      {"missing_in", "for a, b of t do end\n"},
      {"bad_field", "x = a.1\n"},
      {"bad_method", "a:1()\n"},
      {"unclosed_paren_expr", "x = (1 + 2\n"},
      {"unclosed_index", "x = a[1\n"},
      {"lone_tilde", "x = ~1\n"},
      {"string_newline_escape_ok_then_error", "x = 'a\\\nb\n"},
      {"too_many_locals", many_locals(201)},
      {"too_many_locals_in_function", "local function f()\n" + many_locals(201) + "end\n"},
      {"too_many_upvalues", many_upvalues(61)},
      {"too_many_syntax_levels", "x = " + repeat("(", 300) + "1" + repeat(")", 300) + "\n"},
      {"too_many_nested_blocks", repeat("do ", 250) + repeat("end ", 250)},
      {"expression_too_complex", many_args(300)},
      {"too_many_assign_targets", many_targets(250)},
      {"deep_unary", "x = " + repeat("- ", 300) + "1\n"},
      {"deep_not", "x = " + repeat("not ", 300) + "1\n"},
      {"dash_dash_is_a_comment", "x = " + repeat("-", 300) + "1\n"},
      {"concat_too_complex", "x = " + repeat("a .. ", 300) + "a\n"},
  };
}

class LuacSources : public ::testing::TestWithParam<SourceCase> {};

// Each source is written to t.lua and given to luac: a listing must match ours,
// an error message must match our error.
TEST_P(LuacSources, SameBytecodeOrSameError) {
  if (!have_luac()) GTEST_SKIP() << kLuac << " is not installed: no reference to compare with";
  const SourceCase& c = GetParam();
  fs::path dir = fs::temp_directory_path() / ("jitvm_compiler_test_" + std::to_string(getpid()));
  fs::create_directories(dir);
  {
    std::ofstream out(dir / "t.lua", std::ios::binary);
    out << c.source;
  }
  CommandResult ref = run_command("cd " + shell_quote(dir.string()) + " && " + kLuac + " -l -l -p t.lua");
  fs::remove_all(dir);
  CompileResult ours = compile(c.source, "@t.lua");
  if (ref.status == 0) {
    ASSERT_NE(ours.proto, nullptr) << "luac accepts it, we fail: " << ours.error;
    EXPECT_TRUE(same_listing(normalize_addresses(ref.output), normalize_addresses(dump_bytecode(ours.proto))));
    return;
  }
  ASSERT_EQ(ours.proto, nullptr) << "luac rejects it: " << ref.output;
  EXPECT_EQ(ref.output, std::string(kLuac) + ": " + ours.error + "\n");
}

INSTANTIATE_TEST_SUITE_P(Errors, LuacSources, ::testing::ValuesIn(error_cases()),
                         [](const ::testing::TestParamInfo<SourceCase>& info) { return std::string(info.param.name); });
INSTANTIATE_TEST_SUITE_P(Generated, LuacSources, ::testing::ValuesIn(generated_cases()),
                         [](const ::testing::TestParamInfo<SourceCase>& info) { return std::string(info.param.name); });

// The lexer formats its chunk ids in an 80-byte buffer (llex.c's MAXSRC), not
// LUA_IDSIZE, so long file names are cut differently than in runtime errors.
TEST(LuacErrorsLongNames, ChunkIdTruncation) {
  if (!have_luac()) GTEST_SKIP() << kLuac << " is not installed: no reference to compare with";
  fs::path dir = fs::temp_directory_path() / ("jitvm_compiler_names_" + std::to_string(getpid()));
  fs::create_directories(dir);
  for (int len : {50, 58, 59, 60, 61, 75, 78, 79, 80, 81, 120}) {
    std::string name = std::string(static_cast<size_t>(len) - 4, 'n') + ".lua";
    {
      std::ofstream out(dir / name, std::ios::binary);
      out << "x = = 1\n";
    }
    CommandResult ref = run_command("cd " + shell_quote(dir.string()) + " && " + kLuac + " -p " + name);
    CompileResult ours = compile("x = = 1\n", "@" + name);
    ASSERT_EQ(ours.proto, nullptr);
    EXPECT_EQ(ref.output, std::string(kLuac) + ": " + ours.error + "\n") << "name length " << len;
  }
  fs::remove_all(dir);
}

// ---- messages pinned without the reference -------------------------------------------

TEST(CompilerErrors, KnownMessages) {
  struct Known {
    std::string source;
    std::string message;
  };
  const Known known[] = {
      {"local a\n\nb x\n", "t.lua:3: '=' expected near 'x'"},
      {"x = 1 + + 2", "t.lua:1: unexpected symbol near '+'"},
      {"function f()\n", "t.lua:2: 'end' expected (to close 'function' at line 1) near '<eof>'"},
      {"x = \"abc\n", "t.lua:1: unfinished string near '\"abc'"},
      {"x = 3x", "t.lua:1: malformed number near '3x'"},
      {"f\n(g)", "t.lua:2: ambiguous syntax (function call x new statement) near '('"},
      {"function f() return ... end", "t.lua:1: cannot use '...' outside a vararg function near '...'"},
      {"break", "t.lua:1: no loop to break near '<eof>'"},
      {"x = 'a\\400'", "t.lua:1: escape sequence too large near ''a'"},
      {"x = [==[", "t.lua:1: unfinished long string near '<eof>'"},
      {"x = \x02", "t.lua:1: unexpected symbol near 'char(2)'"},
  };
  for (const Known& k : known) {
    CompileResult r = compile(k.source, "@t.lua");
    EXPECT_EQ(r.proto, nullptr) << k.source;
    EXPECT_EQ(r.error, k.message) << k.source;
  }
}

TEST(CompilerErrors, ChunkNamesFollowChunkId) {
  CompileResult r = compile("x = = 1", "=stdin");
  EXPECT_EQ(r.error, "stdin:1: unexpected symbol near '='");
  r = compile("x = = 1", "x = = 1");
  EXPECT_EQ(r.error, "[string \"x = = 1\"]:1: unexpected symbol near '='");
}

TEST(CompilerErrors, NullErrorPointerIsAllowed) {
  EXPECT_EQ(compile_chunk(StateEnv::state, "x = =", 5, "=t", nullptr), nullptr);
}

// ---- pieces with fixed expectations ----------------------------------------------------

TEST(Compiler, MainFunctionShape) {
  CompileResult r = compile("local a = 1\nreturn a + 2\n", "=t");
  ASSERT_NE(r.proto, nullptr) << r.error;
  const Proto* p = r.proto;
  EXPECT_EQ(p->is_vararg, kVarargIsVararg);
  EXPECT_EQ(p->numparams, 0);
  EXPECT_EQ(p->maxstacksize, 2);
  ASSERT_EQ(p->code.size(), 4u);
  EXPECT_EQ(GET_OPCODE(p->code[0]), OP_LOADK);
  EXPECT_EQ(GET_OPCODE(p->code[1]), OP_ADD);
  EXPECT_EQ(GETARG_C(p->code[1]), RKASK(1));
  EXPECT_EQ(GET_OPCODE(p->code[2]), OP_RETURN);
  EXPECT_EQ(GET_OPCODE(p->code[3]), OP_RETURN);
  EXPECT_EQ(p->lineinfo, (std::vector<int>{1, 2, 2, 2}));
  ASSERT_EQ(p->locvars.size(), 1u);
  EXPECT_EQ(p->locvars[0].startpc, 1);
  EXPECT_EQ(p->locvars[0].endpc, 3);  // closed before the final RETURN
}

TEST(Compiler, VarargFlags) {
  CompileResult r = compile("local f = function(...) end\nlocal g = function(...) return ... end\n", "=t");
  ASSERT_NE(r.proto, nullptr) << r.error;
  ASSERT_EQ(r.proto->p.size(), 2u);
  EXPECT_EQ(r.proto->p[0]->is_vararg, kVarargHasArg | kVarargIsVararg | kVarargNeedsArg);
  EXPECT_EQ(r.proto->p[1]->is_vararg, kVarargHasArg | kVarargIsVararg);
}

TEST(Compiler, ConstantFoldingRules) {
  CompileResult r = compile("local a, b, c, d = 2 * 3 + 1, 1 / 0, 0 / 0, 5 % 0", "=t");
  ASSERT_NE(r.proto, nullptr) << r.error;
  const Proto* p = r.proto;
  ASSERT_FALSE(p->k.empty());
  EXPECT_EQ(p->k[0].n, 7);  // folded
  // 1/0, 0/0 and 5%0 stay as instructions for the runtime.
  int divs = 0, mods = 0;
  for (Instruction i : p->code) {
    divs += GET_OPCODE(i) == OP_DIV;
    mods += GET_OPCODE(i) == OP_MOD;
  }
  EXPECT_EQ(divs, 2);
  EXPECT_EQ(mods, 1);
}

TEST(Compiler, StringHeaderForNonFileChunks) {
  CompileResult r = compile("return 1", "return 1");
  ASSERT_NE(r.proto, nullptr) << r.error;
  std::string listing = dump_bytecode(r.proto);
  EXPECT_EQ(listing.rfind("\nmain <(string):0,0> (3 instructions, 12 bytes at ", 0), 0u) << listing;
}

TEST(FloatingPointByte, RoundTripsAndRoundsUp) {
  for (unsigned x = 0; x < 100000; x += (x < 1000 ? 1 : 97)) {
    int fb = int2fb(x);
    EXPECT_GE(static_cast<unsigned>(fb2int(fb)), x) << x;
    if (x < 8) {
      EXPECT_EQ(fb, static_cast<int>(x));
    }
  }
  EXPECT_EQ(int2fb(50), 0x1d);
  EXPECT_EQ(fb2int(0x1d), 52);
}

TEST(OpcodeTables, NamesAndModes) {
  EXPECT_STREQ(kOpNames[OP_MOVE], "MOVE");
  EXPECT_STREQ(kOpNames[OP_VARARG], "VARARG");
  EXPECT_EQ(kOpModes[OP_LOADK], iABx);
  EXPECT_EQ(kOpModes[OP_JMP], iAsBx);
  EXPECT_EQ(kOpModes[OP_FORPREP], iAsBx);
  EXPECT_EQ(kOpModes[OP_CLOSURE], iABx);
  EXPECT_EQ(kOpModes[OP_CALL], iABC);
}

}  // namespace
}  // namespace jitvm
