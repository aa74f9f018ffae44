// Unit tests of the Lua 5.1 pattern matcher, without a VM. Expected values
// were checked against lua5.1's string.find/match.
#include "lua_pattern.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace jitvm {
namespace {

struct FindResult {
  bool found = false;
  size_t start = 0;  // 1-based, as string.find reports
  size_t end = 0;
  std::vector<std::string> captures;  // position captures rendered as numbers
};

FindResult lua_find(const std::string& s, const std::string& p, size_t init = 0) {
  PatternMatcher m(s.data(), s.size(), p.data(), p.size());
  FindResult r;
  size_t start = 0;
  size_t end = 0;
  if (!m.find(init, &start, &end)) return r;
  r.found = true;
  r.start = start + 1;
  r.end = end;
  for (int i = 0; i < m.capture_count(); i++) {
    CaptureSpan c = m.capture(i);
    if (c.kind == kCapPosition) {
      r.captures.push_back(std::to_string(c.start + 1));
    } else {
      r.captures.push_back(m.capture_string(i));
    }
  }
  return r;
}

std::string pattern_error(const std::string& s, const std::string& p) {
  try {
    lua_find(s, p);
  } catch (const PatternError& e) {
    return e.message;
  }
  return "";
}

TEST(LuaPattern, LiteralAndAnyChar) {
  FindResult r = lua_find("hello world", "o w");
  ASSERT_TRUE(r.found);
  EXPECT_EQ(r.start, 5u);
  EXPECT_EQ(r.end, 7u);
  r = lua_find("hello", "l.o");
  EXPECT_EQ(r.start, 3u);
  EXPECT_EQ(r.end, 5u);
  EXPECT_FALSE(lua_find("hello", "xyz").found);
}

TEST(LuaPattern, Classes) {
  EXPECT_EQ(lua_find("abc123def", "%d+").start, 4u);
  EXPECT_EQ(lua_find("abc123def", "%d+").end, 6u);
  EXPECT_EQ(lua_find("  x", "%S").start, 3u);
  EXPECT_EQ(lua_find("ab,cd", "%p").start, 3u);
  EXPECT_EQ(lua_find("abCd", "%u").start, 3u);
  EXPECT_EQ(lua_find("ABcD", "%l").start, 3u);
  EXPECT_EQ(lua_find("xx\x01y", "%c").start, 3u);
  EXPECT_EQ(lua_find("zz_9", "%W").start, 3u);
  EXPECT_EQ(lua_find("ghF0", "%x").start, 3u);
  std::string with_nul("ab\0c", 4);
  EXPECT_EQ(lua_find(with_nul, "%z").start, 3u);
  EXPECT_EQ(lua_find(with_nul, "%Z+").end, 2u);
}

TEST(LuaPattern, Sets) {
  EXPECT_EQ(lua_find("hello", "[lo]+").start, 3u);
  EXPECT_EQ(lua_find("hello", "[lo]+").end, 5u);
  EXPECT_EQ(lua_find("hello", "[^hel]").start, 5u);
  EXPECT_EQ(lua_find("x-y", "[a-]").start, 2u);   // '-' at the end is literal
  EXPECT_EQ(lua_find("abc]", "[]]").start, 4u);   // ']' first is literal
  EXPECT_EQ(lua_find("a5b", "[%d]").start, 2u);
  EXPECT_EQ(lua_find("Q", "[a-z]").found, false);
  EXPECT_EQ(lua_find("q", "[a-z]").found, true);
  EXPECT_EQ(lua_find("a^", "[%^]").start, 2u);
}

TEST(LuaPattern, Quantifiers) {
  FindResult r = lua_find("aaab", "a-b");
  EXPECT_EQ(r.start, 1u);
  EXPECT_EQ(r.end, 4u);
  r = lua_find("<a><b>", "<.->");
  EXPECT_EQ(r.end, 3u);
  r = lua_find("<a><b>", "<.*>");
  EXPECT_EQ(r.end, 6u);
  r = lua_find("color colour", "colou?r", 1);
  EXPECT_EQ(r.start, 7u);
  r = lua_find("xyz", "a*");
  EXPECT_EQ(r.start, 1u);
  EXPECT_EQ(r.end, 0u);  // empty match
  EXPECT_FALSE(lua_find("xyz", "a+").found);
}

TEST(LuaPattern, Anchors) {
  EXPECT_FALSE(lua_find("xhello", "^hello").found);
  EXPECT_TRUE(lua_find("hello", "^hello$").found);
  EXPECT_FALSE(lua_find("hello!", "^hello$").found);
  EXPECT_EQ(lua_find("a$b", "$b").start, 2u);  // '$' not at the end is literal
  EXPECT_EQ(lua_find("^a", "a^").found, false);
}

TEST(LuaPattern, Captures) {
  FindResult r = lua_find("key = value", "(%w+)%s*=%s*(%w+)");
  ASSERT_TRUE(r.found);
  ASSERT_EQ(r.captures.size(), 2u);
  EXPECT_EQ(r.captures[0], "key");
  EXPECT_EQ(r.captures[1], "value");
  r = lua_find("hello", "()ll()");
  ASSERT_EQ(r.captures.size(), 2u);
  EXPECT_EQ(r.captures[0], "3");
  EXPECT_EQ(r.captures[1], "5");
  r = lua_find("abc", "((a)(b))");
  ASSERT_EQ(r.captures.size(), 3u);
  EXPECT_EQ(r.captures[0], "ab");
  EXPECT_EQ(r.captures[1], "a");
  EXPECT_EQ(r.captures[2], "b");
}

TEST(LuaPattern, BackReference) {
  FindResult r = lua_find("say \"hi\" or 'yo'", "([\"'])(.-)%1");
  ASSERT_TRUE(r.found);
  EXPECT_EQ(r.captures[1], "hi");
  EXPECT_FALSE(lua_find("ab", "(a)%1").found);
}

TEST(LuaPattern, Balance) {
  FindResult r = lua_find("f(a(b)c) d", "%b()");
  EXPECT_EQ(r.start, 2u);
  EXPECT_EQ(r.end, 8u);
  EXPECT_FALSE(lua_find("f(a(b c", "%b()").found);
}

TEST(LuaPattern, Frontier) {
  FindResult r = lua_find("THE (quick) fox", "%f[%a]%a+");
  EXPECT_EQ(r.start, 1u);
  r = lua_find("THE (quick) fox", "%f[%l]%a+");
  EXPECT_EQ(r.start, 6u);
  EXPECT_EQ(r.end, 10u);
  r = lua_find("hello", "%f[%z]");  // end of subject counts as NUL
  EXPECT_EQ(r.start, 6u);
}

TEST(LuaPattern, PatternEndsAtNul) {
  std::string p("b\0zzz", 5);
  FindResult r = lua_find("abc", p);
  EXPECT_EQ(r.start, 2u);
  EXPECT_EQ(r.end, 2u);
}

TEST(LuaPattern, Errors) {
  EXPECT_EQ(pattern_error("a", "%"), "malformed pattern (ends with '%')");
  EXPECT_EQ(pattern_error("a", "[a"), "malformed pattern (missing ']')");
  EXPECT_EQ(pattern_error("a", "[a%"), "malformed pattern (missing ']')");
  EXPECT_EQ(pattern_error("a", "(a"), "unfinished capture");
  EXPECT_EQ(pattern_error("a", "a)"), "invalid pattern capture");
  EXPECT_EQ(pattern_error("a", "%1"), "invalid capture index");
  EXPECT_EQ(pattern_error("aa", "(a%1)"), "invalid capture index");
  EXPECT_EQ(pattern_error("a", "%b"), "unbalanced pattern");
  EXPECT_EQ(pattern_error("a", "%fa"), "missing '[' after '%f' in pattern");
  std::string many;
  for (int i = 0; i < 33; i++) many += "()";
  EXPECT_EQ(pattern_error("a", many), "too many captures");
}

TEST(LuaPattern, UnfinishedCaptureWhenPushed) {
  std::string s = "abc";
  std::string p = "(a";
  PatternMatcher m(s.data(), s.size(), p.data(), p.size());
  size_t start = 0;
  size_t end = 0;
  ASSERT_TRUE(m.find(0, &start, &end));
  ASSERT_EQ(m.capture_count(), 1);
  try {
    m.capture(0);
    FAIL() << "expected an error";
  } catch (const PatternError& e) {
    EXPECT_STREQ(e.message, "unfinished capture");
  }
}

TEST(LuaPattern, DeepPatternIsAnErrorNotACrash) {
  std::string p;
  for (int i = 0; i < 6000; i++) p += "a?";
  EXPECT_EQ(pattern_error(std::string(6000, 'a'), p), "pattern too complex");
}

TEST(LuaPattern, MatchHereDoesNotSearch) {
  std::string s = "xab";
  std::string p = "ab";
  PatternMatcher m(s.data(), s.size(), p.data(), p.size());
  size_t end = 0;
  EXPECT_FALSE(m.match_here(0, 0, &end));
  EXPECT_TRUE(m.match_here(1, 0, &end));
  EXPECT_EQ(end, 3u);
}

}  // namespace
}  // namespace jitvm
