#include "webdriver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <httplib.h>
#include <thread>

namespace jitscope::testing {
namespace {

// chromedriver starts in well under a second; Chromium's first start on a
// loaded 2-core machine can take several.
constexpr auto kDriverStartTimeout = std::chrono::seconds(20);
constexpr auto kCommandTimeout = std::chrono::seconds(60);
constexpr const char* kElementKey = "element-6066-11e4-a52e-4f735466cecf";

std::string DecodeBase64(const std::string& in) {
  std::string out;
  int bits = 0, value = 0;
  for (char c : in) {
    int d = c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26 : c >= '0' && c <= '9' ? c - '0' + 52
            : c == '+' ? 62 : c == '/' ? 63 : -1;
    if (d < 0) continue;  // padding and line breaks
    value = value << 6 | d;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((value >> bits) & 0xff);
    }
  }
  return out;
}

}  // namespace

std::string BrowserMissingReason() {
  for (const char* path : {kChromiumPath, kChromedriverPath})
    if (access(path, X_OK) != 0) return std::string("this machine lacks ") + path + " (run scripts/install-deps)";
  return "";
}

int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  int port = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  close(fd);
  return port;
}

std::unique_ptr<WebDriver> WebDriver::Start(std::string* error) {
  std::unique_ptr<WebDriver> w(new WebDriver());
  int port = FreeLoopbackPort();
  w->profile_ = std::make_unique<TempDir>();
  LaunchOptions options;
  options.argv = {kChromedriverPath, "--port=" + std::to_string(port), "--allowed-ips=127.0.0.1"};
  w->driver_ = ChildProcess::Start(options, error);
  if (!w->driver_) return nullptr;
  w->http_ = std::make_unique<httplib::Client>("127.0.0.1", port);
  w->http_->set_read_timeout(std::chrono::duration_cast<std::chrono::seconds>(kCommandTimeout).count(), 0);
  auto deadline = std::chrono::steady_clock::now() + kDriverStartTimeout;
  bool ready = false;
  while (!ready && std::chrono::steady_clock::now() < deadline && w->driver_->running()) {
    if (auto res = w->http_->Get("/status"); res && res->status == 200) {
      nlohmann::json j = nlohmann::json::parse(res->body, nullptr, false);
      ready = !j.is_discarded() && j["value"].value("ready", false);
    }
    if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (!ready) {
    *error = "chromedriver did not become ready on port " + std::to_string(port) + ": " + w->driver_->Stderr() +
             w->driver_->Stdout();
    return nullptr;
  }
  nlohmann::json caps{
      {"capabilities",
       {{"alwaysMatch",
         {{"browserName", "chrome"},
          {"goog:chromeOptions",
           {{"binary", kChromiumPath},
            {"args",
             {"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
              "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--window-size=1400,1600", "--user-data-dir=" + w->profile_->path()}}}}}}}}};
  std::optional<nlohmann::json> session = w->Call("POST", "/session", caps);
  if (!session || !(*session).contains("sessionId")) {
    *error = "cannot start a Chromium session: " + w->last_error_;
    return nullptr;
  }
  w->session_ = (*session)["sessionId"];
  return w;
}

WebDriver::~WebDriver() {
  if (!session_.empty()) Call("DELETE", "/session/" + session_);
  if (driver_) driver_->Stop();
}

std::optional<nlohmann::json> WebDriver::Call(const std::string& method, const std::string& path,
                                              const nlohmann::json& body) {
  httplib::Result res = method == "GET"    ? http_->Get(path.c_str())
                        : method == "DELETE" ? http_->Delete(path.c_str())
                                             : http_->Post(path.c_str(), body.is_null() ? "{}" : body.dump(), "application/json");
  if (!res) {
    last_error_ = method + " " + path + ": " + httplib::to_string(res.error());
    return std::nullopt;
  }
  nlohmann::json j = nlohmann::json::parse(res->body, nullptr, false);
  if (j.is_discarded() || !j.contains("value")) {
    last_error_ = method + " " + path + ": HTTP " + std::to_string(res->status) + ": " + res->body.substr(0, 500);
    return std::nullopt;
  }
  if (res->status != 200) {
    last_error_ = method + " " + path + ": " + j["value"].value("error", "") + ": " + j["value"].value("message", "");
    return std::nullopt;
  }
  return j["value"];
}

bool WebDriver::Navigate(const std::string& url) {
  return Call("POST", "/session/" + session_ + "/url", {{"url", url}}).has_value();
}

std::vector<std::string> WebDriver::FindAll(const std::string& css) {
  std::vector<std::string> out;
  std::optional<nlohmann::json> v =
      Call("POST", "/session/" + session_ + "/elements", {{"using", "css selector"}, {"value", css}});
  if (v && v->is_array())
    for (const nlohmann::json& e : *v) out.push_back(e.value(kElementKey, ""));
  return out;
}

bool WebDriver::Click(const std::string& element) {
  return Call("POST", "/session/" + session_ + "/element/" + element + "/click", nlohmann::json::object()).has_value();
}

std::optional<nlohmann::json> WebDriver::Execute(const std::string& script, const nlohmann::json& args) {
  return Call("POST", "/session/" + session_ + "/execute/sync", {{"script", script}, {"args", args}});
}

bool WebDriver::WaitUntil(const std::string& script, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::optional<nlohmann::json> v = Execute(script);
    if (v && v->is_boolean() && v->get<bool>()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

bool WebDriver::Screenshot(const std::string& path) {
  std::optional<nlohmann::json> v = Call("GET", "/session/" + session_ + "/screenshot");
  if (!v || !v->is_string()) return false;
  std::ofstream out(path, std::ios::binary);
  out << DecodeBase64(v->get<std::string>());
  return static_cast<bool>(out);
}

}  // namespace jitscope::testing
