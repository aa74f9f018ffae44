// A minimal W3C WebDriver client over chromedriver and Debian's headless
// Chromium, in C++ (CI has no npm or playwright): starts chromedriver on a
// free port, opens one session with a fresh profile, and offers what the
// viewer tests need: navigate, find, click, run a script, screenshot.
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "harness/child_process.h"
#include "harness/temp_dir.h"

namespace httplib {
class Client;
}

namespace jitscope::testing {

inline constexpr const char* kChromedriverPath = "/usr/bin/chromedriver";
inline constexpr const char* kChromiumPath = "/usr/bin/chromium";

// Why the browser tests cannot run here ("" when they can): chromium or
// chromedriver is not installed (scripts/install-deps installs both).
std::string BrowserMissingReason();

// A free TCP port on 127.0.0.1 (bound and released: another process could
// take it in between, which chromedriver would report as a start failure).
int FreeLoopbackPort();

class WebDriver {
 public:
  // nullptr and *error when chromedriver or the session does not start.
  static std::unique_ptr<WebDriver> Start(std::string* error);
  ~WebDriver();
  WebDriver(const WebDriver&) = delete;
  WebDriver& operator=(const WebDriver&) = delete;

  bool Navigate(const std::string& url);
  // Element ids of every match of a CSS selector.
  std::vector<std::string> FindAll(const std::string& css);
  bool Click(const std::string& element);
  // Runs `script` (a function body; `arguments` as in WebDriver) and
  // returns its value; nullopt (with last_error()) if it threw.
  std::optional<nlohmann::json> Execute(const std::string& script, const nlohmann::json& args = nlohmann::json::array());
  // Polls `script` until it returns true.
  bool WaitUntil(const std::string& script, std::chrono::milliseconds timeout);
  // PNG of the viewport, written to `path`.
  bool Screenshot(const std::string& path);
  const std::string& last_error() const { return last_error_; }

 private:
  WebDriver() = default;
  std::optional<nlohmann::json> Call(const std::string& method, const std::string& path,
                                     const nlohmann::json& body = nullptr);

  std::unique_ptr<TempDir> profile_;
  std::unique_ptr<ChildProcess> driver_;
  std::unique_ptr<httplib::Client> http_;
  std::string session_;
  std::string last_error_;
};

}  // namespace jitscope::testing
