// The HTTP side of `jitscope view`: serves the embedded page and the JSON
// API over a ViewModel on 127.0.0.1 only. Routes (docs/viewer.md):
//   GET /                       the page
//   GET /api/state[?since=N]    the whole state; {"unchanged":true,...} when
//                               the generation is still N (the page's poll)
//   GET /api/disasm?addr=0xA    the disassembly of the function containing A
// Everything else is 404 with a JSON error; a path with a ".." segment or
// an encoded slash is 400; unknown or malformed query parameters are 400;
// a Host header that is not the loopback address is 403 (a page on another
// site cannot reach the API through DNS rebinding).
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "debuginfo/result.h"
#include "viewer/view_model.h"

namespace httplib {
class Server;
}

namespace jitscope {

// The page, as embedded in the binary (viewer/src/view_page.html).
const std::string& ViewPageHtml();
// The page with `document` (ViewModel::OfflineDocument) inlined, which
// opens from a file with no server.
std::string OfflineViewHtml(const nlohmann::json& document);
// Writes OfflineViewHtml atomically (temporary file beside `path`, fsync,
// rename). Errors name the file.
Result<bool> WriteOfflineViewHtml(const nlohmann::json& document, const std::string& path);

class ViewServer {
 public:
  static constexpr const char* kHost = "127.0.0.1";

  explicit ViewServer(const ViewModel& model);
  ~ViewServer();
  ViewServer(const ViewServer&) = delete;
  ViewServer& operator=(const ViewServer&) = delete;

  // Binds 127.0.0.1:port (0: any free port) and serves on a background
  // thread. Returns the bound port; errors say why the bind failed.
  Result<int> Start(int port);
  void Stop();
  int port() const { return port_; }

 private:
  const ViewModel& model_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace jitscope
