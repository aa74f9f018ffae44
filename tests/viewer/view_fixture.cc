#include "view_fixture.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <thread>

#include "harness/paths.h"
#include "harness/tool_runner.h"

namespace jitscope::viewer_test {

std::string JitvmPath() { return testing::BinPath("jitvm"); }
std::string JitscopePath() { return testing::BinPath("jitscope"); }

std::unique_ptr<LiveJitvm> LiveJitvm::Start(const std::vector<std::string>& flags, std::string* error) {
  std::unique_ptr<LiveJitvm> vm(new LiveJitvm());
  testing::LaunchOptions options;
  options.argv = {JitvmPath(), "--jit-threshold=0"};
  options.argv.insert(options.argv.end(), flags.begin(), flags.end());
  options.argv.push_back("live.lua");
  options.argv.push_back(vm->dir_.File("trigger"));
  options.argv.push_back(vm->dir_.File("quit"));
  options.argv.push_back(vm->dir_.File("flush"));
  options.working_dir = testing::SourcePath("tests/viewer/lua");
  vm->process_ = testing::ChildProcess::Start(options, error);
  if (!vm->process_) return nullptr;
  if (!vm->process_->WaitForOutput("ready\n", kStartTimeout)) {
    *error = "jitvm did not print ready: " + vm->process_->Stdout() + vm->process_->Stderr();
    return nullptr;
  }
  return vm;
}

bool LiveJitvm::CompileLateFunction() {
  std::ofstream(dir_.File("trigger")) << "go\n";
  return process_->WaitForOutput("late\n", kStartTimeout);
}

bool LiveJitvm::FlushCode() {
  std::ofstream(dir_.File("flush")) << "go\n";
  return process_->WaitForOutput("flushed\n", kStartTimeout);
}

bool LiveJitvm::Quit() {
  std::ofstream(dir_.File("quit")) << "quit\n";
  return process_->Wait(kStartTimeout).has_value();
}

std::unique_ptr<ViewProcess> ViewProcess::Start(const std::string& argument, std::string* error) {
  std::unique_ptr<ViewProcess> v(new ViewProcess());
  testing::LaunchOptions options;
  options.argv = {JitscopePath(), "view", argument, "--port", "0"};
  v->process_ = testing::ChildProcess::Start(options, error);
  if (!v->process_) return nullptr;
  if (!v->process_->WaitForOutput("/\n", kStartTimeout)) {
    *error = "jitscope view did not print its URL: " + v->process_->Stdout() + v->process_->Stderr();
    return nullptr;
  }
  // No std::regex: GCC 12 warns inside it under ASan (-Werror).
  std::string out = v->process_->Stdout();
  const std::string prefix = "jitscope view: serving http://127.0.0.1:";
  size_t at = out.find(prefix);
  char* end = nullptr;
  long port = at == std::string::npos ? 0 : strtol(out.c_str() + at + prefix.size(), &end, 10);
  if (port <= 0 || port > 65535 || *end != '/') {
    *error = "unexpected output of jitscope view: " + out;
    return nullptr;
  }
  v->port_ = static_cast<int>(port);
  return v;
}

HttpReply RawGet(int port, const std::string& target, const std::string& host, const std::string& method) {
  HttpReply reply;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    close(fd);
    return reply;
  }
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: " +
                    (host.empty() ? "127.0.0.1:" + std::to_string(port) : host) + "\r\nConnection: close\r\n\r\n";
  if (write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
    close(fd);
    return reply;
  }
  // Until the body announced by Content-Length is complete: httplib keeps
  // some error connections (414) open despite "Connection: close".
  std::string all;
  char buf[65536];
  size_t end = std::string::npos, want = std::string::npos;
  for (ssize_t n; (want == std::string::npos || all.size() < want) && (n = read(fd, buf, sizeof(buf))) > 0;) {
    all.append(buf, static_cast<size_t>(n));
    if (end == std::string::npos && (end = all.find("\r\n\r\n")) != std::string::npos) {
      std::string head = all.substr(0, end);
      for (char& c : head) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
      size_t cl = head.find("\r\ncontent-length:");
      if (cl != std::string::npos) want = end + 4 + strtoull(head.c_str() + cl + 17, nullptr, 10);
    }
  }
  close(fd);
  size_t sp = all.find(' ');
  if (sp == std::string::npos || end == std::string::npos) return reply;
  reply.status = atoi(all.c_str() + sp + 1);
  reply.headers = all.substr(0, end);
  reply.body = all.substr(end + 4);
  return reply;
}

std::string MakeTombstone(const std::string& dir, std::string* error) {
  testing::LaunchOptions options;
  options.argv = {JitvmPath(), "--test-builtins", "--jit-threshold=0", "crash_nested.lua", "jit-segv"};
  options.env = {"JITSCOPE_TOMBSTONE_DIR=" + dir};
  options.working_dir = testing::SourcePath("tests/tombstone/lua");
  testing::ToolResult r = testing::RunTool(options, std::chrono::seconds(60));
  DIR* d = opendir(dir.c_str());
  std::string found;
  while (d && !found.size()) {
    dirent* e = readdir(d);
    if (!e) break;
    if (std::string(e->d_name).starts_with("tombstone_")) found = dir + "/" + e->d_name;
  }
  if (d) closedir(d);
  if (found.empty()) *error = "no tombstone in " + dir + ": " + r.Describe();
  return found;
}

std::string ArtifactDir() {
  static const std::string dir = [] {
    std::string d = JITSCOPE_VIEWER_ARTIFACT_DIR;
    for (size_t i = 1; i <= d.size(); i++)
      if (i == d.size() || d[i] == '/') mkdir(d.substr(0, i).c_str(), 0755);
    std::cout << "viewer test artifacts (screenshots): " << d << std::endl;
    return d;
  }();
  return dir;
}

}  // namespace jitscope::viewer_test
