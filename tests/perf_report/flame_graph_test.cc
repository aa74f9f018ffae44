// flame_graph: the merged tree, folded stacks, and the SVG: well-formed XML
// (checked by a small parser here, and by xmllint where installed), root
// at the bottom, widths proportional to samples, titles, escaping, label
// truncation, colours by kind; and the atomic file write.
#include "perf_integration/flame_graph.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string_view>
#include <sstream>

#include "harness/paths.h"
#include "harness/temp_dir.h"
#include "harness/tool_runner.h"

namespace jitscope::perf {
namespace {

using testing::TempDir;

Sample Chain(std::vector<std::pair<std::string, std::string>> leaf_first) {
  Sample s;
  s.has_callchain = true;
  for (auto& [sym, dso] : leaf_first) {
    bool kernel = dso == "[kernel.kallsyms]";
    s.frames.push_back(Frame{kernel ? 0xffffffff81000000ull : 0x1000, sym, dso});
  }
  return s;
}

// 4 samples under main: 2 in fib (JIT), 1 in memcpy (native) under it, and
// 1 in the kernel.
std::vector<Sample> SmallProfile() {
  return {
      Chain({{"fib@fib.lua:3", "/d/jitted-9-1.so"}, {"execute", "/bin/jitvm"}, {"main", "/bin/jitvm"}}),
      Chain({{"fib@fib.lua:3", "/d/jitted-9-1.so"}, {"execute", "/bin/jitvm"}, {"main", "/bin/jitvm"}}),
      Chain({{"memcpy", "/lib/libc.so.6"}, {"execute", "/bin/jitvm"}, {"main", "/bin/jitvm"}}),
      Chain({{"clear_page", "[kernel.kallsyms]"}, {"main", "/bin/jitvm"}}),
  };
}

TEST(FlameTreeTest, MergesFromTheRoot) {
  FlameNode root = BuildFlameTree(SmallProfile());
  EXPECT_EQ(root.name, "all");
  EXPECT_EQ(root.count, 4u);
  ASSERT_EQ(root.children.size(), 1u);
  const FlameNode& main = root.children[0];
  EXPECT_EQ(main.name, "main");
  EXPECT_EQ(main.dso, "jitvm");
  EXPECT_EQ(main.count, 4u);
  ASSERT_EQ(main.children.size(), 2u);
  EXPECT_EQ(main.children[0].name, "clear_page");  // alphabetical, as flamegraph.pl
  EXPECT_EQ(main.children[0].kind, FrameKind::kKernel);
  const FlameNode& execute = main.children[1];
  EXPECT_EQ(execute.count, 3u);
  ASSERT_EQ(execute.children.size(), 2u);
  EXPECT_EQ(execute.children[0].name, "fib@fib.lua:3");
  EXPECT_EQ(execute.children[0].count, 2u);
  EXPECT_EQ(execute.children[0].kind, FrameKind::kJit);
  EXPECT_EQ(execute.children[1].name, "memcpy");
  EXPECT_EQ(execute.children[1].kind, FrameKind::kNative);
}

TEST(FoldStacksTest, BrendanGreggFormat) {
  std::vector<Sample> samples = SmallProfile();
  samples.push_back(Chain({{"a;b", "/bin/x"}}));
  EXPECT_EQ(FoldStacks(samples),
            "a:b 1\n"
            "main;clear_page_[k] 1\n"
            "main;execute;fib@fib.lua:3_[j] 2\n"
            "main;execute;memcpy 1\n");
}

// A small XML well-formedness check: balanced tags, quoted attributes, only
// the five predefined entities or character references, no stray '<' or
// '&', one root element. Returns "" or what is wrong. (Hand-written rather
// than std::regex, which trips GCC 12's -Wmaybe-uninitialized under ASan.)
bool IsNameStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':'; }
bool IsNameChar(char c) {
  return IsNameStart(c) || std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '.';
}
bool IsXmlSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string CheckText(std::string_view text) {
  for (size_t k = 0; k < text.size(); k++) {
    if (text[k] == '<') return "raw '<'";
    if (text[k] != '&') continue;
    size_t semi = text.find(';', k);
    if (semi == std::string_view::npos) return "unterminated entity";
    std::string_view name = text.substr(k + 1, semi - k - 1);
    bool ok = name == "amp" || name == "lt" || name == "gt" || name == "quot" || name == "apos";
    if (!ok && name.size() > 1 && name[0] == '#') {
      bool hex = name[1] == 'x';
      std::string_view digits = name.substr(hex ? 2 : 1);
      ok = !digits.empty() && std::all_of(digits.begin(), digits.end(), [hex](char c) {
        return hex ? std::isxdigit(static_cast<unsigned char>(c)) != 0 : std::isdigit(static_cast<unsigned char>(c)) != 0;
      });
    }
    if (!ok) return "unknown entity &" + std::string(name) + ";";
  }
  return "";
}

// "name a="1" b='2'" (the inside of a tag, without "/"): the name, or ""
// with *problem set.
std::string ParseTag(std::string_view tag, std::string* problem) {
  size_t i = 0;
  if (tag.empty() || !IsNameStart(tag[0])) {
    *problem = "malformed tag <" + std::string(tag.substr(0, 60)) + ">";
    return "";
  }
  while (i < tag.size() && IsNameChar(tag[i])) i++;
  std::string name(tag.substr(0, i));
  while (true) {
    size_t spaces = i;
    while (i < tag.size() && IsXmlSpace(tag[i])) i++;
    if (i == tag.size()) return name;
    if (i == spaces || !IsNameStart(tag[i])) break;  // attributes need a space before them
    while (i < tag.size() && IsNameChar(tag[i])) i++;
    while (i < tag.size() && IsXmlSpace(tag[i])) i++;
    if (i == tag.size() || tag[i] != '=') break;
    i++;
    while (i < tag.size() && IsXmlSpace(tag[i])) i++;
    if (i == tag.size() || (tag[i] != '"' && tag[i] != '\'')) break;
    size_t close = tag.find(tag[i], i + 1);
    if (close == std::string_view::npos) break;
    std::string text_problem = CheckText(tag.substr(i + 1, close - i - 1));
    if (!text_problem.empty()) {
      *problem = text_problem + " in an attribute of <" + name + ">";
      return "";
    }
    i = close + 1;
  }
  *problem = "malformed tag <" + std::string(tag.substr(0, 60)) + ">";
  return "";
}

std::string CheckWellFormed(const std::string& xml, std::string* root_name) {
  std::vector<std::string> open;
  size_t i = 0;
  bool seen_root = false;
  while (i < xml.size()) {
    size_t lt = xml.find('<', i);
    std::string text_error = CheckText(std::string_view(xml).substr(i, lt == std::string::npos ? xml.npos : lt - i));
    if (!text_error.empty()) return text_error + " in text near offset " + std::to_string(i);
    if (lt == std::string::npos) break;
    if (open.empty() && seen_root) return "content after the root element";
    if (xml.compare(lt, 5, "<?xml") == 0) {
      if (lt != 0) return "XML declaration not at the start";
      size_t end = xml.find("?>", lt);
      if (end == std::string::npos) return "unterminated XML declaration";
      i = end + 2;
      continue;
    }
    if (xml.compare(lt, 4, "<!--") == 0) {
      size_t end = xml.find("-->", lt);
      if (end == std::string::npos) return "unterminated comment";
      i = end + 3;
      continue;
    }
    size_t gt = lt + 1;
    char quote = 0;
    for (; gt < xml.size(); gt++) {
      if (quote != 0) {
        if (xml[gt] == quote) quote = 0;
      } else if (xml[gt] == '"' || xml[gt] == '\'') {
        quote = xml[gt];
      } else if (xml[gt] == '>') {
        break;
      }
    }
    if (gt >= xml.size()) return "unterminated tag at offset " + std::to_string(lt);
    std::string_view tag = std::string_view(xml).substr(lt + 1, gt - lt - 1);
    i = gt + 1;
    if (!tag.empty() && tag[0] == '/') {
      std::string name(tag.substr(1));
      if (open.empty() || open.back() != name) return "mismatched </" + name + ">";
      open.pop_back();
      continue;
    }
    bool self_closing = !tag.empty() && tag.back() == '/';
    if (self_closing) tag.remove_suffix(1);
    std::string problem;
    std::string name = ParseTag(tag, &problem);
    if (name.empty()) return problem;
    if (open.empty()) {
      if (seen_root) return "second root element";
      seen_root = true;
      *root_name = name;
    }
    if (!self_closing) open.push_back(name);
  }
  if (!open.empty()) return "unclosed <" + open.back() + ">";
  if (!seen_root) return "no root element";
  return "";
}

void ExpectValidSvg(const std::string& svg) {
  std::string root;
  std::string problem = CheckWellFormed(svg, &root);
  EXPECT_EQ(problem, "") << svg.substr(0, 2000);
  EXPECT_EQ(root, "svg");
  EXPECT_NE(svg.find("xmlns=\"http://www.w3.org/2000/svg\""), std::string::npos);
}

TEST(XmlCheckerTest, CatchesWhatXmllintWould) {
  std::string root;
  EXPECT_EQ(CheckWellFormed("<svg><g>a &amp; b</g></svg>", &root), "");
  EXPECT_NE(CheckWellFormed("<svg><g>a & b</g></svg>", &root), "");
  EXPECT_NE(CheckWellFormed("<svg><g></svg>", &root), "");
  EXPECT_NE(CheckWellFormed("<svg a=\"x\"b></svg>", &root), "");
  EXPECT_NE(CheckWellFormed("<svg a=\"1<2\"/>", &root), "");
  EXPECT_NE(CheckWellFormed("<svg/><svg/>", &root), "");
}

struct RectInfo {
  double x, y, width;
  std::string fill;
};

std::string Attr(std::string_view tag, const std::string& name) {
  size_t at = tag.find(" " + name + "=\"");
  if (at == std::string_view::npos) return "";
  at += name.size() + 3;
  return std::string(tag.substr(at, tag.find('"', at) - at));
}

// The frame <g> elements: first line of the title -> its rect.
std::map<std::string, RectInfo> Frames(const std::string& svg) {
  static constexpr std::string_view kStart = "<g class=\"frame\"><title>";
  std::map<std::string, RectInfo> out;
  for (size_t at = svg.find(kStart); at != std::string::npos; at = svg.find(kStart, at + 1)) {
    size_t title_start = at + kStart.size();
    size_t title_end = svg.find("</title>", title_start);
    std::string title = svg.substr(title_start, title_end - title_start);
    size_t rect_end = svg.find('>', title_end + 8);
    std::string_view rect = std::string_view(svg).substr(title_end + 8, rect_end - title_end - 8);
    EXPECT_TRUE(rect.starts_with("<rect ")) << rect;
    out[title.substr(0, title.find('\n'))] = {std::stod(Attr(rect, "x")), std::stod(Attr(rect, "y")),
                                              std::stod(Attr(rect, "width")), Attr(rect, "fill")};
  }
  return out;
}

TEST(FlameGraphSvgTest, LayoutTitlesAndColours) {
  FlameGraphOptions options;
  options.subtitle = "rec/perf.data";
  std::string svg = RenderFlameGraphSvg(SmallProfile(), options);
  ExpectValidSvg(svg);
  std::map<std::string, RectInfo> frames = Frames(svg);
  ASSERT_EQ(frames.size(), 6u) << svg;
  ASSERT_TRUE(frames.count("all (4 samples, 100.00%)")) << svg;
  ASSERT_TRUE(frames.count("main (4 samples, 100.00%)"));
  ASSERT_TRUE(frames.count("execute (3 samples, 75.00%)"));
  ASSERT_TRUE(frames.count("fib@fib.lua:3 (2 samples, 50.00%)"));
  ASSERT_TRUE(frames.count("memcpy (1 samples, 25.00%)"));
  ASSERT_TRUE(frames.count("clear_page (1 samples, 25.00%)"));
  const RectInfo& all = frames["all (4 samples, 100.00%)"];
  const RectInfo& main = frames["main (4 samples, 100.00%)"];
  const RectInfo& execute = frames["execute (3 samples, 75.00%)"];
  const RectInfo& fib = frames["fib@fib.lua:3 (2 samples, 50.00%)"];
  // Root at the bottom: deeper frames are higher up (smaller y).
  EXPECT_GT(all.y, main.y);
  EXPECT_GT(main.y, execute.y);
  EXPECT_GT(execute.y, fib.y);
  EXPECT_NEAR(all.width, 1200 - 20, 0.01);
  EXPECT_NEAR(execute.width, all.width * 3 / 4, 0.02);
  EXPECT_NEAR(fib.width, all.width / 2, 0.02);
  // Children sit within their parent, alphabetically left to right.
  EXPECT_GE(fib.x, execute.x);
  EXPECT_LT(frames["clear_page (1 samples, 25.00%)"].x, execute.x);
  // Kinds: JIT green, native red-orange, kernel blue.
  auto rgb = [](const std::string& fill) {
    int r = 0, g = 0, b = 0;
    EXPECT_EQ(sscanf(fill.c_str(), "rgb(%d,%d,%d)", &r, &g, &b), 3) << fill;
    return std::vector<int>{r, g, b};
  };
  std::vector<int> jit = rgb(fib.fill);
  EXPECT_TRUE(jit[1] > jit[0] && jit[1] > jit[2]) << fib.fill;
  std::vector<int> native = rgb(frames["memcpy (1 samples, 25.00%)"].fill);
  EXPECT_TRUE(native[0] > native[1] && native[0] > native[2]);
  std::vector<int> kernel = rgb(frames["clear_page (1 samples, 25.00%)"].fill);
  EXPECT_TRUE(kernel[2] > kernel[0] && kernel[2] > kernel[1]);
  EXPECT_NE(svg.find("rec/perf.data"), std::string::npos);
  EXPECT_NE(svg.find(">fib@fib.lua:3</text>"), std::string::npos);
}

TEST(FlameGraphSvgTest, EscapesNamesAndTruncatesLabels) {
  std::string nasty = "a<b>&\"c'd";
  std::string long_name(300, 'x');
  std::string invalid_utf8 = "bad\xff\xfe\x01name\xe2\x82";  // stray bytes, a C0 control, a cut sequence
  std::vector<Sample> samples;
  for (int i = 0; i < 100; i++) samples.push_back(Chain({{long_name, "/bin/x"}, {nasty, "/bin/x"}}));
  samples.push_back(Chain({{"tiny", "/bin/x"}}));  // 1/103 of 1180 px: no room for a label
  samples.push_back(Chain({{invalid_utf8, "/lib/\xc3\xa9t\xc3\xa9.so"}}));
  samples.push_back(Chain({{"\xc3\xa9t\xc3\xa9_caf\xc3\xa9", "/bin/x"}}));
  std::string svg = RenderFlameGraphSvg(samples, FlameGraphOptions{});
  ExpectValidSvg(svg);
  EXPECT_EQ(svg.find(nasty), std::string::npos);
  EXPECT_NE(svg.find("<title>a&lt;b&gt;&amp;&quot;c&apos;d (100 samples,"), std::string::npos) << svg;
  EXPECT_NE(svg.find("bad???name?"), std::string::npos);
  EXPECT_NE(svg.find("\xc3\xa9t\xc3\xa9_caf\xc3\xa9"), std::string::npos);  // valid UTF-8 kept
  // The long name's label is cut with "..": fewer x's than the name has.
  size_t cut = svg.find("x..</text>");
  ASSERT_NE(cut, std::string::npos);
  size_t first_x = svg.find_last_not_of('x', cut) + 1;
  EXPECT_EQ(svg[first_x - 1], '>');
  EXPECT_LT(cut + 1 - first_x, 300u);
  EXPECT_GT(cut + 1 - first_x, 100u);
  EXPECT_NE(svg.find("<title>tiny (1 samples, 0.97%)"), std::string::npos);
  EXPECT_EQ(svg.find(">tiny</text>"), std::string::npos);
  EXPECT_EQ(svg.find(">t..</text>"), std::string::npos);
  EXPECT_EQ(EscapeXml("<&>\"'"), "&lt;&amp;&gt;&quot;&apos;");
}

TEST(FlameGraphSvgTest, EmptyAndOneFrameProfilesAreValid) {
  std::string empty = RenderFlameGraphSvg({}, FlameGraphOptions{});
  ExpectValidSvg(empty);
  EXPECT_NE(empty.find("no samples"), std::string::npos);
  Sample one;
  one.frames.push_back(Frame{1, "only", "/bin/x"});
  ExpectValidSvg(RenderFlameGraphSvg({one}, FlameGraphOptions{}));
}

TEST(FlameGraphSvgTest, LeavesOutFramesNarrowerThanTheMinimum) {
  std::vector<Sample> samples(20000, Chain({{"big", "/bin/x"}}));
  samples.push_back(Chain({{"needle", "/bin/x"}}));  // 1180/20001 px = 0.06 px
  std::string svg = RenderFlameGraphSvg(samples, FlameGraphOptions{});
  EXPECT_EQ(svg.find("needle"), std::string::npos);
  FlameGraphOptions keep_all;
  keep_all.min_frame_width = 0;
  EXPECT_NE(RenderFlameGraphSvg(samples, keep_all).find("needle"), std::string::npos);
}

TEST(FlameGraphSvgTest, XmllintAccepts) {
  std::optional<std::string> xmllint = testing::FindTool("xmllint");
  if (!xmllint) GTEST_SKIP() << "this machine lacks 'xmllint' (libxml2-utils); the built-in check still ran";
  TempDir dir;
  std::vector<Sample> samples = SmallProfile();
  samples.push_back(Chain({{"a<b>&\"c'd \xff\x02", "/bin/x"}, {std::string(500, 'y'), "/bin/x"}}));
  std::string error;
  ASSERT_TRUE(WriteFileAtomically(dir.File("g.svg"), RenderFlameGraphSvg(samples, FlameGraphOptions{}), &error))
      << error;
  testing::ToolResult r = testing::RunTool({*xmllint, "--noout", dir.File("g.svg")});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.err, "");
}

std::vector<std::string> ListDir(const std::string& path) {
  std::vector<std::string> names;
  if (DIR* d = opendir(path.c_str())) {
    while (dirent* e = readdir(d))
      if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") names.push_back(e->d_name);
    closedir(d);
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(WriteFileAtomicallyTest, ReplacesWholeAndLeavesNoTemporaryFile) {
  TempDir dir;
  std::string error;
  ASSERT_TRUE(WriteFileAtomically(dir.File("out.svg"), "first", &error)) << error;
  ASSERT_TRUE(WriteFileAtomically(dir.File("out.svg"), "second", &error)) << error;
  EXPECT_EQ(ReadAll(dir.File("out.svg")), "second");
  EXPECT_EQ(ListDir(dir.path()), std::vector<std::string>{"out.svg"});
  struct stat st;
  ASSERT_EQ(stat(dir.File("out.svg").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);

  EXPECT_FALSE(WriteFileAtomically(dir.File("missing/out.svg"), "x", &error));
  EXPECT_NE(error.find(dir.File("missing/out.svg")), std::string::npos) << error;
  // A directory in the way: rename fails, the temporary file is removed.
  ASSERT_EQ(mkdir(dir.File("adir").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(dir.File("adir/inner").c_str(), 0755), 0);
  EXPECT_FALSE(WriteFileAtomically(dir.File("adir"), "x", &error));
  EXPECT_NE(error.find("rename"), std::string::npos) << error;
  EXPECT_EQ(ListDir(dir.path()), (std::vector<std::string>{"adir", "out.svg"}));
}

}  // namespace
}  // namespace jitscope::perf
