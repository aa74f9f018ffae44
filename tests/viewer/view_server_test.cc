// `jitscope view` as an HTTP server, without a browser: where it listens,
// what it refuses, and that a target's exit does not stop it.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "harness/paths.h"
#include "harness/temp_dir.h"
#include "harness/tool_runner.h"
#include "view_fixture.h"

namespace jitscope::viewer_test {
namespace {

class ViewServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    vm_ = LiveJitvm::Start({"--jit-debug=full"}, &error);
    ASSERT_TRUE(vm_) << error;
    view_ = ViewProcess::Start(std::to_string(vm_->pid()), &error);
    ASSERT_TRUE(view_) << error;
  }
  std::unique_ptr<LiveJitvm> vm_;
  std::unique_ptr<ViewProcess> view_;
};

// /proc/net/tcp lists the listening socket's local address: it must be
// 127.0.0.1 (0100007F), never 0.0.0.0, and there is no IPv6 listener.
TEST_F(ViewServerTest, ListensOnLoopbackOnly) {
  char port_hex[8];
  snprintf(port_hex, sizeof(port_hex), "%04X", view_->port());
  auto listeners = [&](const char* file) {
    std::ifstream in(file);
    std::vector<std::string> out;
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream s(line);
      std::string sl, local, remote, state;
      s >> sl >> local >> remote >> state;
      if (state == "0A" && local.size() > 5 && local.substr(local.size() - 4) == port_hex) out.push_back(local);
    }
    return out;
  };
  std::vector<std::string> v4 = listeners("/proc/net/tcp");
  ASSERT_EQ(v4.size(), 1u);
  EXPECT_EQ(v4[0], std::string("0100007F:") + port_hex);
  EXPECT_TRUE(listeners("/proc/net/tcp6").empty());
  HttpReply page = RawGet(view_->port(), "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("jitscope view"), std::string::npos);
  // Another site's page reaching us through DNS rebinding names its own host.
  EXPECT_EQ(RawGet(view_->port(), "/api/state", "attacker.example:80").status, 403);
}

TEST_F(ViewServerTest, PathsOutsideTheApiAre404) {
  for (const char* path : {"/index.html", "/api", "/api/", "/api/states", "/api/state/x", "/etc/passwd",
                           "/favicon.ico", "/api/disasm/0x1000", "//api/state"}) {
    HttpReply r = RawGet(view_->port(), path);
    EXPECT_EQ(r.status, 404) << path;
    nlohmann::json j = r.Json();
    ASSERT_FALSE(j.is_discarded()) << path << ": " << r.body;
    EXPECT_TRUE(j.contains("error")) << path;
  }
  EXPECT_EQ(RawGet(view_->port(), "/api/state", "", "POST").status, 405);
  EXPECT_EQ(RawGet(view_->port(), "/api/state", "", "DELETE").status, 405);
}

TEST_F(ViewServerTest, PathTraversalIsRejected) {
  for (const char* path : {"/../../../../etc/passwd", "/api/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd",
                           "/api/%2e%2e/%2e%2e/etc/passwd", "/api/state/../state", "/api%2fstate", "/..%2f..%2fetc%2fpasswd",
                           "/api/.%2e/.%2e/etc/passwd", "/./api/state", "/api\\..\\..\\etc\\passwd"}) {
    HttpReply r = RawGet(view_->port(), path);
    EXPECT_TRUE(r.status == 400 || r.status == 404) << path << " -> " << r.status;
    EXPECT_EQ(r.body.find("root:"), std::string::npos) << path;
    EXPECT_FALSE(r.Json().is_discarded()) << path << ": " << r.body;
  }
}

TEST_F(ViewServerTest, GarbageQueryParametersAre400) {
  for (const char* target :
       {"/api/state?since=abc", "/api/state?since=", "/api/state?since=-1", "/api/state?since=1e3",
        "/api/state?since=99999999999999999999999", "/api/state?since=1&since=2", "/api/state?bogus=1",
        "/api/state?%zz=%zz", "/api/disasm", "/api/disasm?addr=", "/api/disasm?addr=0x", "/api/disasm?addr=zz",
        "/api/disasm?addr=0x1ffffffffffffffff", "/api/disasm?addr=12345", "/api/disasm?addr=0xg1",
        "/api/disasm?addr=0x1000&addr=0x2000", "/api/disasm?addr=0x1000&x=1", "/api/disasm?addr=%00",
        "/?x=1"}) {
    HttpReply r = RawGet(view_->port(), target);
    EXPECT_EQ(r.status, 400) << target << ": " << r.body;
    nlohmann::json j = r.Json();
    ASSERT_FALSE(j.is_discarded()) << target << ": " << r.body;
    EXPECT_TRUE(j["error"].is_string()) << target;
  }
  std::string huge = "/api/disasm?addr=0x" + std::string(100000, 'f');
  HttpReply r = RawGet(view_->port(), huge);
  EXPECT_GE(r.status, 400);
  // Random junk in paths and queries (printable bytes and percent escapes
  // of any byte): always an answer, never a crash or a 200 outside the API.
  uint64_t seed = 0x9e3779b97f4a7c15ull;
  auto next = [&seed] { return seed = seed * 6364136223846793005ull + 1442695040888963407ull, seed >> 33; };
  const std::string base[] = {"/api/state?", "/api/disasm?", "/", "/api/", "/?"};
  for (int i = 0; i < 200; i++) {
    std::string t = base[next() % 5];
    size_t n = next() % 40;
    for (size_t k = 0; k < n; k++) {
      uint64_t r = next();
      if (r % 4 == 0) {
        char hex[4];
        snprintf(hex, sizeof(hex), "%%%02X", static_cast<unsigned>(r >> 8 & 0xff));
        t += hex;
      } else {
        t += static_cast<char>('!' + (r >> 8) % 94);  // printable, no space
      }
    }
    HttpReply reply = RawGet(view_->port(), t);
    EXPECT_NE(reply.status, 0) << t;
    if (reply.status == 200) {
      EXPECT_TRUE(t.starts_with("/api/state?") || t.starts_with("/api/disasm?") || t == "/" || t == "/?") << t;
    }
  }
  // A well-formed address where nothing is compiled is a 404, not a crash.
  EXPECT_EQ(RawGet(view_->port(), "/api/disasm?addr=0x10").status, 404);
  // And the server is still there.
  EXPECT_EQ(RawGet(view_->port(), "/api/state").status, 200);
  EXPECT_TRUE(view_->process().running());
}

TEST_F(ViewServerTest, StateAndDisassemblyOfALiveTarget) {
  HttpReply r = RawGet(view_->port(), "/api/state");
  ASSERT_EQ(r.status, 200);
  nlohmann::json s = r.Json();
  EXPECT_EQ(s["mode"], "live");
  EXPECT_EQ(s["pid"], vm_->pid());
  EXPECT_TRUE(s["live"].get<bool>());
  std::string square;
  for (const nlohmann::json& f : s["functions"])
    if (f["name"].get<std::string>().starts_with("square@live.lua:")) square = f["start"];
  ASSERT_FALSE(square.empty()) << s.dump(2);
  uint64_t gen = s["generation"];
  nlohmann::json same = RawGet(view_->port(), "/api/state?since=" + std::to_string(gen)).Json();
  EXPECT_TRUE(same.value("unchanged", false));
  nlohmann::json d = RawGet(view_->port(), "/api/disasm?addr=" + square).Json();
  ASSERT_TRUE(d.contains("instructions")) << d.dump();
  bool line = false;
  for (const nlohmann::json& i : d["instructions"])
    if (i.value("source_text", "").find("return x * x") != std::string::npos) line = true;
  EXPECT_TRUE(line) << d.dump(2);
}

TEST_F(ViewServerTest, KeepsServingAfterTheTargetExits) {
  nlohmann::json before = RawGet(view_->port(), "/api/state").Json();
  ASSERT_TRUE(vm_->Quit());
  bool exited = false;
  nlohmann::json after;
  for (int i = 0; i < 100 && !exited; i++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    after = RawGet(view_->port(), "/api/state").Json();
    exited = after.value("exited", false);
  }
  ASSERT_TRUE(exited) << after.dump();
  EXPECT_FALSE(after["live"].get<bool>());
  EXPECT_EQ(after["functions"].size(), before["functions"].size());
  // The code was copied while the process ran: still disassembled.
  std::string start = after["functions"][0]["start"];
  HttpReply d = RawGet(view_->port(), "/api/disasm?addr=" + start);
  EXPECT_EQ(d.status, 200) << d.body;
  EXPECT_TRUE(view_->process().running());
}

// The timeline and the memory history follow a live target: a function
// compiled later is registered, freed code is unregistered, and every
// change adds a point to the debug-info history.
TEST(ViewLive, TimelineAndMemoryFollowTheTarget) {
  std::string error;
  std::unique_ptr<LiveJitvm> vm = LiveJitvm::Start({"--test-builtins"}, &error);
  ASSERT_TRUE(vm) << error;
  std::unique_ptr<ViewProcess> view = ViewProcess::Start(std::to_string(vm->pid()), &error);
  ASSERT_TRUE(view) << error;
  nlohmann::json first = RawGet(view->port(), "/api/state").Json();
  ASSERT_EQ(first["memory"].size(), 1u);
  auto wait_for = [&](const std::function<bool(const nlohmann::json&)>& done) {
    nlohmann::json s;
    for (int i = 0; i < 100; i++) {
      s = RawGet(view->port(), "/api/state").Json();
      if (done(s)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return s;
  };
  auto has_event = [](const nlohmann::json& s, const std::string& action, const std::string& prefix) {
    for (const nlohmann::json& e : s["events"])
      if (e["action"] == action)
        for (const nlohmann::json& f : e["functions"])
          if (f.get<std::string>().starts_with(prefix)) return true;
    return false;
  };
  ASSERT_TRUE(vm->CompileLateFunction());
  nlohmann::json late = wait_for([&](const nlohmann::json& s) { return has_event(s, "register", "late_arrival@"); });
  ASSERT_TRUE(has_event(late, "register", "late_arrival@")) << late["events"].dump(2);
  EXPECT_GT(late["generation"].get<uint64_t>(), first["generation"].get<uint64_t>());
  EXPECT_GE(late["memory"].size(), 2u);
  EXPECT_GT(late["debug_info"]["unpacked_bytes"].get<uint64_t>(), first["debug_info"]["unpacked_bytes"].get<uint64_t>());

  ASSERT_TRUE(vm->FlushCode());
  // square is not on the stack when the flush runs: its code is freed.
  nlohmann::json flushed = wait_for([&](const nlohmann::json& s) { return has_event(s, "unregister", "square@"); });
  ASSERT_TRUE(has_event(flushed, "unregister", "square@")) << flushed["events"].dump(2);
  for (const nlohmann::json& f : flushed["functions"])
    EXPECT_FALSE(f["name"].get<std::string>().starts_with("square@")) << f.dump();
  // Times are in order; unregistrations come after the registrations.
  uint64_t last = 0;
  for (const nlohmann::json& e : flushed["events"]) {
    EXPECT_GE(e["time_ns"].get<uint64_t>(), last);
    last = e["time_ns"];
  }
  EXPECT_GT(flushed["memory"].size(), late["memory"].size());
}

TEST(ViewSnapshot, ServesASnapshotFileAndRefusesABusyPort) {
  std::string error;
  std::unique_ptr<LiveJitvm> vm = LiveJitvm::Start({"--jit-debug=full"}, &error);
  ASSERT_TRUE(vm) << error;
  testing::TempDir dir;
  std::string snap = dir.File("target.snap");
  testing::ToolResult r = testing::RunTool({JitscopePath(), "snapshot", std::to_string(vm->pid()), "-o", snap});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  ASSERT_TRUE(vm->Quit());  // the file alone from here on
  std::unique_ptr<ViewProcess> view = ViewProcess::Start(snap, &error);
  ASSERT_TRUE(view) << error;
  nlohmann::json s = RawGet(view->port(), "/api/state").Json();
  EXPECT_EQ(s["mode"], "snapshot");
  EXPECT_FALSE(s["live"].get<bool>());
  std::string fib;
  for (const nlohmann::json& f : s["functions"])
    if (f["name"].get<std::string>().starts_with("fib@live.lua:")) fib = f["start"];
  ASSERT_FALSE(fib.empty()) << s.dump(2);
  nlohmann::json d = RawGet(view->port(), "/api/disasm?addr=" + fib).Json();
  bool line = false;
  for (const nlohmann::json& i : d["instructions"])
    if (i.value("source_text", "").find("return fib(n - 1) + fib(n - 2)") != std::string::npos) line = true;
  EXPECT_TRUE(line) << d.dump(2);

  // The same port again: a one-line error, exit 1.
  r = testing::RunTool({JitscopePath(), "view", snap, "--port", std::to_string(view->port())}, std::chrono::seconds(20));
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_NE(r.err.find("cannot listen on 127.0.0.1:" + std::to_string(view->port())), std::string::npos) << r.err;
  r = testing::RunTool({JitscopePath(), "view", snap, "--port", "70000"});
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  r = testing::RunTool({JitscopePath(), "view", "/nonexistent/file"});
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
}

TEST(ViewHtml, WritesOneSelfContainedFileAtomically) {
  std::string error;
  std::unique_ptr<LiveJitvm> vm = LiveJitvm::Start({}, &error);
  ASSERT_TRUE(vm) << error;
  testing::TempDir dir;
  std::string out = dir.File("view.html");
  testing::ToolResult r = testing::RunTool({JitscopePath(), "view", std::to_string(vm->pid()), "--html", out});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  std::ifstream in(out);
  std::string html((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(html.find("sum_squares@live.lua:"), std::string::npos);
  // Nothing loaded from elsewhere.
  for (const char* bad : {"src=\"http", "href=\"http", "src='http", "@import", "url(http"})
    EXPECT_EQ(html.find(bad), std::string::npos) << bad;
  // Only the file: the temporary was renamed.
  int files = 0;
  for (const auto& name : {"view.html"}) files += access(dir.File(name).c_str(), F_OK) == 0;
  EXPECT_EQ(files, 1);
  testing::ToolResult ls = testing::RunTool({"ls", "-A", dir.path()});
  EXPECT_EQ(ls.out, "view.html\n");
}

TEST(ViewTombstone, ServesTheCrashingThreadsBacktrace) {
  testing::TempDir dir;
  std::string error;
  std::string tomb = MakeTombstone(dir.path(), &error);
  ASSERT_FALSE(tomb.empty()) << error;
  std::unique_ptr<ViewProcess> view = ViewProcess::Start(tomb, &error);
  ASSERT_TRUE(view) << error;
  nlohmann::json s = RawGet(view->port(), "/api/state").Json();
  EXPECT_EQ(s["mode"], "tombstone");
  ASSERT_TRUE(s["crash"].is_object()) << s.dump(2);
  EXPECT_EQ(s["crash"]["signal_name"], "SIGSEGV");
  const nlohmann::json& t = s["crash"]["threads"][0];
  EXPECT_TRUE(t["crashed"].get<bool>());
  ASSERT_FALSE(t["frames"].empty());
  const nlohmann::json& top = t["frames"][0];
  EXPECT_TRUE(top["jit"].get<bool>());
  EXPECT_TRUE(top["function"].get<std::string>().starts_with("crash_here@crash_nested.lua:")) << top.dump();
  ASSERT_TRUE(top.contains("function_start"));
  HttpReply d = RawGet(view->port(), "/api/disasm?addr=" + top["pc"].get<std::string>());
  ASSERT_EQ(d.status, 200) << d.body;
  EXPECT_EQ(d.Json()["function"], top["function"]);
  // SIGTERM (as Ctrl-C) ends serving cleanly.
  EXPECT_EQ(view->process().Stop(), 0);
}

// A recording (`jitscope record` under perf): the code comes from the
// recording's jitdump, the samples from perf script, and they meet on
// instructions.
TEST(ViewRecording, PutsSamplesOnInstructions) {
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
  nlohmann::json s = RawGet(view->port(), "/api/state").Json();
  EXPECT_EQ(s["mode"], "recording");
  EXPECT_GT(s["total_samples"].get<uint64_t>(), 0u);
  std::string hot;
  uint64_t hot_samples = 0;
  for (const nlohmann::json& f : s["functions"])
    if (f["samples"].get<uint64_t>() > hot_samples) hot = f["start"], hot_samples = f["samples"];
  ASSERT_GT(hot_samples, 0u) << s.dump(2);
  nlohmann::json d = RawGet(view->port(), "/api/disasm?addr=" + hot).Json();
  uint64_t sum = 0;
  for (const nlohmann::json& i : d["instructions"]) sum += i["samples"].get<uint64_t>();
  EXPECT_EQ(sum, hot_samples);
  EXPECT_EQ(d["samples"].get<uint64_t>(), hot_samples);
}

// perf + `jitvm --jitdump=DIR`: the jitdump's line tables put Lua lines on
// instructions, with their text from the script on this machine.
TEST(ViewRecording, JitdumpLinesAndSourceText) {
  JITSCOPE_REQUIRE_TOOL(perf, "perf");
  testing::TempDir dir;
  testing::ToolResult r = testing::RunTool({perf, "record", "-k", "1", "-e", "cpu-clock", "-o", dir.File("perf.data"), "--",
                                            JitvmPath(), "--jitdump=" + dir.path(),
                                            testing::SourcePath("examples/perf_hot.lua")},
                                           std::chrono::seconds(90));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  r = testing::RunTool({perf, "inject", "--jit", "-i", dir.File("perf.data"), "-o", dir.File("perf.jit.data")},
                       std::chrono::seconds(90));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  std::string error;
  std::unique_ptr<ViewProcess> view = ViewProcess::Start(dir.path(), &error);
  ASSERT_TRUE(view) << error;
  nlohmann::json s = RawGet(view->port(), "/api/state").Json();
  std::string collatz;
  for (const nlohmann::json& f : s["functions"])
    if (f["name"].get<std::string>().starts_with("collatz_steps@perf_hot.lua:")) collatz = f["start"];
  ASSERT_FALSE(collatz.empty()) << s.dump(2);
  nlohmann::json d = RawGet(view->port(), "/api/disasm?addr=" + collatz).Json();
  bool loop_line = false;
  for (const nlohmann::json& i : d["instructions"])
    if (i.value("source_text", "").find("while n ~= 1 do") != std::string::npos) loop_line = true;
  EXPECT_TRUE(loop_line) << d.dump(2);
  EXPECT_GT(d["samples"].get<uint64_t>(), 0u);
}

}  // namespace
}  // namespace jitscope::viewer_test
