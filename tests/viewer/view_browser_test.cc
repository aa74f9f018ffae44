// The viewer's page in real headless Chromium, driven over WebDriver:
// against a running jitvm (function table, disassembly with Lua lines, code
// map, live updates, the target's exit), a tombstone (backtrace linked to
// disassembly) and the --html file opened as file://. Each test saves
// screenshots into ArtifactDir().
#include <gtest/gtest.h>

#include <chrono>

#include "harness/paths.h"
#include "harness/temp_dir.h"
#include "harness/tool_runner.h"
#include "view_fixture.h"
#include "webdriver.h"

namespace jitscope::viewer_test {
namespace {

using testing::WebDriver;
constexpr auto kPageTimeout = std::chrono::seconds(20);

// The names in the function table, in table order.
constexpr const char* kTableNames =
    "return [...document.querySelectorAll('#fn-table tbody tr.fn-row')].map(r => r.dataset.name);";

class BrowserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = testing::BrowserMissingReason(); !why.empty()) GTEST_SKIP() << why;
    std::string error;
    browser_ = WebDriver::Start(&error);
    ASSERT_TRUE(browser_) << error;
  }
  void Shot(const std::string& name) {
    std::string path = ArtifactDir() + "/" + name + ".png";
    EXPECT_TRUE(browser_->Screenshot(path)) << browser_->last_error();
    std::cout << "screenshot: " << path << std::endl;
  }
  std::vector<std::string> TableNames() {
    std::optional<nlohmann::json> v = browser_->Execute(kTableNames);
    return v && v->is_array() ? v->get<std::vector<std::string>>() : std::vector<std::string>{};
  }
  bool HasRow(const std::string& prefix) {
    for (const std::string& n : TableNames())
      if (n.starts_with(prefix)) return true;
    return false;
  }
  std::unique_ptr<WebDriver> browser_;
};

TEST_F(BrowserTest, LiveTargetTableDisassemblyAndCodeMap) {
  std::string error;
  std::unique_ptr<LiveJitvm> vm = LiveJitvm::Start({"--jit-debug=full"}, &error);
  ASSERT_TRUE(vm) << error;
  std::unique_ptr<ViewProcess> view = ViewProcess::Start(std::to_string(vm->pid()), &error);
  ASSERT_TRUE(view) << error;
  ASSERT_TRUE(browser_->Navigate(view->url())) << browser_->last_error();
  ASSERT_TRUE(browser_->WaitUntil("return document.querySelectorAll('#fn-table tbody tr.fn-row').length >= 4;", kPageTimeout));
  for (const char* fn : {"sum_squares@live.lua:", "square@live.lua:", "fib@live.lua:", "main@live.lua:"})
    EXPECT_TRUE(HasRow(fn)) << fn;
  std::optional<nlohmann::json> status = browser_->Execute("return document.getElementById('status').textContent;");
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, "live");

  // The code map: one block per function in the table, inside the JIT mapping.
  std::optional<nlohmann::json> counts = browser_->Execute(
      "return [document.querySelectorAll('#codemap .fn-block').length,"
      " document.querySelectorAll('#fn-table tbody tr.fn-row').length,"
      " new Set([...document.querySelectorAll('#codemap .fn-block')].map(b => b.dataset.start)).size];");
  ASSERT_TRUE(counts) << browser_->last_error();
  EXPECT_EQ((*counts)[0], (*counts)[1]);
  EXPECT_EQ((*counts)[0], (*counts)[2]);

  // Sorting by size and filtering are done by the page.
  std::vector<std::string> heads = browser_->FindAll("#fn-table thead th[data-key=size]");
  ASSERT_EQ(heads.size(), 1u);
  ASSERT_TRUE(browser_->Click(heads[0]));
  std::optional<nlohmann::json> sorted = browser_->Execute(
      "const s = [...document.querySelectorAll('#fn-table tbody tr.fn-row')].map(r => Number(r.children[2].textContent));"
      "return s.every((v, i) => i == 0 || s[i - 1] <= v);");
  ASSERT_TRUE(sorted);
  EXPECT_EQ(*sorted, true);

  // Click square: its disassembly, with the Lua lines interleaved.
  std::vector<std::string> rows = browser_->FindAll("#fn-table tbody tr.fn-row[data-name^='square@live.lua:']");
  ASSERT_EQ(rows.size(), 1u);
  ASSERT_TRUE(browser_->Click(rows[0])) << browser_->last_error();
  ASSERT_TRUE(browser_->WaitUntil("return document.querySelectorAll('#disasm tr.insn').length > 5;", kPageTimeout));
  std::optional<nlohmann::json> src = browser_->Execute(
      "return [...document.querySelectorAll('#disasm tr.src-line')].map(r => r.textContent);");
  ASSERT_TRUE(src);
  std::string lines = src->dump();
  EXPECT_NE(lines.find("local function square(x)"), std::string::npos) << lines;
  EXPECT_NE(lines.find("return x * x"), std::string::npos) << lines;
  std::optional<nlohmann::json> title = browser_->Execute("return document.getElementById('disasm-title').textContent;");
  ASSERT_TRUE(title);
  EXPECT_NE(title->get<std::string>().find("square@live.lua:"), std::string::npos);
  Shot("live_disassembly");

  // The filter narrows the table.
  std::vector<std::string> filter = browser_->FindAll("#filter");
  ASSERT_EQ(filter.size(), 1u);
  ASSERT_TRUE(browser_->Execute("const f = document.getElementById('filter'); f.value = 'fib';"
                                "f.dispatchEvent(new Event('input')); return true;"));
  std::vector<std::string> names = TableNames();
  ASSERT_EQ(names.size(), 1u);
  EXPECT_TRUE(names[0].starts_with("fib@live.lua:"));
  Shot("live_filtered");
}

TEST_F(BrowserTest, LiveModeShowsCodeCompiledAfterThePageOpened) {
  std::string error;
  std::unique_ptr<LiveJitvm> vm = LiveJitvm::Start({}, &error);
  ASSERT_TRUE(vm) << error;
  std::unique_ptr<ViewProcess> view = ViewProcess::Start(std::to_string(vm->pid()), &error);
  ASSERT_TRUE(view) << error;
  ASSERT_TRUE(browser_->Navigate(view->url()));
  ASSERT_TRUE(browser_->WaitUntil("return document.querySelectorAll('#fn-table tbody tr.fn-row').length >= 4;", kPageTimeout));
  EXPECT_FALSE(HasRow("late_arrival@"));
  std::optional<nlohmann::json> blocks = browser_->Execute("return document.querySelectorAll('#codemap .fn-block').length;");
  ASSERT_TRUE(blocks);
  // Proves that the page is updated in place, not reloaded.
  ASSERT_TRUE(browser_->Execute("window.jitscopeTestMarker = 'same page'; return true;"));

  ASSERT_TRUE(vm->CompileLateFunction());
  ASSERT_TRUE(browser_->WaitUntil(
      "return [...document.querySelectorAll('#fn-table tbody tr.fn-row')].some(r => r.dataset.name.startsWith('late_arrival@'));",
      kPageTimeout));
  std::optional<nlohmann::json> marker = browser_->Execute("return window.jitscopeTestMarker || null;");
  ASSERT_TRUE(marker);
  EXPECT_EQ(*marker, "same page");
  std::optional<nlohmann::json> after = browser_->Execute("return document.querySelectorAll('#codemap .fn-block').length;");
  ASSERT_TRUE(after);
  EXPECT_GT(after->get<int>(), blocks->get<int>());
  std::optional<nlohmann::json> events = browser_->Execute("return document.querySelectorAll('#events tr.event').length;");
  ASSERT_TRUE(events);
  EXPECT_GE(events->get<int>(), static_cast<int>(TableNames().size()));
  Shot("live_after_new_function");

  // The target exits: the page says so and keeps its table.
  size_t rows = TableNames().size();
  ASSERT_TRUE(vm->Quit());
  ASSERT_TRUE(browser_->WaitUntil("return document.getElementById('status').textContent.includes('process exited');",
                                  kPageTimeout));
  EXPECT_EQ(TableNames().size(), rows);
  std::vector<std::string> late = browser_->FindAll("#fn-table tbody tr.fn-row[data-name^='late_arrival@']");
  ASSERT_EQ(late.size(), 1u);
  ASSERT_TRUE(browser_->Click(late[0]));
  EXPECT_TRUE(browser_->WaitUntil("return document.querySelectorAll('#disasm tr.insn').length > 5;", kPageTimeout));
  Shot("live_after_exit");
}

TEST_F(BrowserTest, TombstoneBacktraceLinksToDisassembly) {
  testing::TempDir dir;
  std::string error;
  std::string tomb = MakeTombstone(dir.path(), &error);
  ASSERT_FALSE(tomb.empty()) << error;
  std::unique_ptr<ViewProcess> view = ViewProcess::Start(tomb, &error);
  ASSERT_TRUE(view) << error;
  ASSERT_TRUE(browser_->Navigate(view->url()));
  ASSERT_TRUE(browser_->WaitUntil("return !document.getElementById('backtrace').hidden && "
                                  "document.querySelectorAll('#threads .frame').length > 3;",
                                  kPageTimeout));
  std::optional<nlohmann::json> frames = browser_->Execute(
      "return [...document.querySelector('#threads .crashed-thread').querySelectorAll('.frame')].map(f => f.textContent);");
  ASSERT_TRUE(frames);
  std::string text = frames->dump();
  for (const char* fn : {"crash_here@crash_nested.lua:", "level3@crash_nested.lua:", "level2@crash_nested.lua:",
                         "level1@crash_nested.lua:"})
    EXPECT_NE(text.find(fn), std::string::npos) << fn << " in " << text;
  EXPECT_NE(text.find("crash_here"), std::string::npos);
  std::optional<nlohmann::json> sig = browser_->Execute("return document.getElementById('crash-summary').textContent;");
  ASSERT_TRUE(sig);
  EXPECT_NE(sig->get<std::string>().find("SIGSEGV"), std::string::npos);
  Shot("tombstone_crash");
  std::vector<std::string> links = browser_->FindAll("#threads .crashed-thread .frame.jit a.frame-link");
  ASSERT_FALSE(links.empty());
  ASSERT_TRUE(browser_->Click(links[0]));
  ASSERT_TRUE(browser_->WaitUntil("return document.getElementById('disasm-title').textContent.includes('crash_here@');",
                                  kPageTimeout));
  EXPECT_TRUE(browser_->WaitUntil("return document.querySelectorAll('#disasm tr.insn').length > 5;", kPageTimeout));
  // The faulting instruction is the one marked, at frame #00's pc.
  std::optional<nlohmann::json> marked = browser_->Execute(
      "const r = document.querySelectorAll('#disasm tr.pc-mark'); return r.length == 1 ? r[0].children[0].textContent : '';");
  ASSERT_TRUE(marked);
  std::optional<nlohmann::json> pc = browser_->Execute(
      "return document.querySelector('#threads .crashed-thread a.frame-link').dataset.pc;");
  ASSERT_TRUE(pc);
  EXPECT_EQ(*marked, *pc);
  Shot("tombstone_fault_disassembly");
}

TEST_F(BrowserTest, HtmlFileShowsTheSameFunctionTable) {
  std::string error;
  std::unique_ptr<LiveJitvm> vm = LiveJitvm::Start({"--jit-debug=full"}, &error);
  ASSERT_TRUE(vm) << error;
  std::unique_ptr<ViewProcess> view = ViewProcess::Start(std::to_string(vm->pid()), &error);
  ASSERT_TRUE(view) << error;
  ASSERT_TRUE(browser_->Navigate(view->url()));
  ASSERT_TRUE(browser_->WaitUntil("return document.querySelectorAll('#fn-table tbody tr.fn-row').length >= 4;", kPageTimeout));
  std::vector<std::string> served = TableNames();

  testing::TempDir dir;
  std::string html = dir.File("view.html");
  testing::ToolResult r = testing::RunTool({JitscopePath(), "view", std::to_string(vm->pid()), "--html", html});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  // No server from here on: the file must stand alone.
  view->process().Stop();
  ASSERT_TRUE(browser_->Navigate("file://" + html)) << browser_->last_error();
  ASSERT_TRUE(browser_->WaitUntil("return document.querySelectorAll('#fn-table tbody tr.fn-row').length >= 4;", kPageTimeout));
  EXPECT_EQ(TableNames(), served);
  std::vector<std::string> rows = browser_->FindAll("#fn-table tbody tr.fn-row[data-name^='sum_squares@live.lua:']");
  ASSERT_EQ(rows.size(), 1u);
  ASSERT_TRUE(browser_->Click(rows[0]));
  ASSERT_TRUE(browser_->WaitUntil("return document.querySelectorAll('#disasm tr.insn').length > 5;", kPageTimeout));
  std::optional<nlohmann::json> src = browser_->Execute(
      "return [...document.querySelectorAll('#disasm tr.src-line')].map(r => r.textContent).join('\\n');");
  ASSERT_TRUE(src);
  EXPECT_NE(src->get<std::string>().find("total = total + square(i)"), std::string::npos) << *src;
  Shot("html_file");
}

TEST_F(BrowserTest, RecordingShowsSamplesAsAHeatColumn) {
  JITSCOPE_REQUIRE_TOOL(perf, "perf");
  testing::TempDir dir;
  std::string rec = dir.File("rec");
  testing::ToolResult r = testing::RunTool(
      {JitscopePath(), "record", "-o", rec, "--", JitvmPath(), testing::SourcePath("examples/perf_hot.lua")},
      std::chrono::seconds(90));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  std::string error;
  std::unique_ptr<ViewProcess> view = ViewProcess::Start(rec, &error);
  ASSERT_TRUE(view) << error;
  ASSERT_TRUE(browser_->Navigate(view->url()));
  ASSERT_TRUE(browser_->WaitUntil("return document.querySelectorAll('#fn-table tbody tr.fn-row').length >= 3;", kPageTimeout));
  EXPECT_TRUE(HasRow("collatz_steps@perf_hot.lua:"));
  // Sort by samples, twice for descending: the hottest function first.
  std::vector<std::string> head = browser_->FindAll("#fn-table thead th[data-key=samples]");
  ASSERT_EQ(head.size(), 1u);
  ASSERT_TRUE(browser_->Click(head[0]));
  head = browser_->FindAll("#fn-table thead th[data-key=samples]");
  ASSERT_TRUE(browser_->Click(head[0]));
  std::vector<std::string> rows = browser_->FindAll("#fn-table tbody tr.fn-row");
  ASSERT_FALSE(rows.empty());
  ASSERT_TRUE(browser_->Click(rows[0]));
  ASSERT_TRUE(browser_->WaitUntil("return document.querySelectorAll('#disasm td.heat').length > 5;", kPageTimeout));
  std::optional<nlohmann::json> sums = browser_->Execute(
      "const row = document.querySelector('#fn-table tbody tr.fn-row');"
      "const total = Number(row.children[row.children.length - 1].textContent);"
      "const heat = [...document.querySelectorAll('#disasm td.heat')].reduce((a, td) => a + Number(td.textContent || 0), 0);"
      "return [total, heat];");
  ASSERT_TRUE(sums);
  EXPECT_GT((*sums)[0].get<int>(), 0);
  EXPECT_EQ((*sums)[0], (*sums)[1]);
  Shot("recording_heat");
}

}  // namespace
}  // namespace jitscope::viewer_test
