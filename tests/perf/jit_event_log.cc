#include "jit_event_log.h"

#include <fstream>
#include <map>
#include <sstream>

namespace jitscope::perf_test {

std::optional<JitEventLog> JitEventLog::Parse(const std::string& text, std::string* error) {
  JitEventLog log;
  // Live functions by address, as indices into lifetimes_: a free names the
  // address of a load that is still live.
  std::map<uint64_t, size_t> live;
  size_t line_start = 0;
  int line_number = 0;
  while (line_start < text.size()) {
    size_t line_end = text.find('\n', line_start);
    if (line_end == std::string::npos) break;  // partial last line
    std::string line = text.substr(line_start, line_end - line_start);
    line_start = line_end + 1;
    line_number++;
    if (line.empty()) continue;
    std::istringstream fields(line);
    std::string kind, addr_text;
    uint64_t ns = 0, size = 0;
    fields >> kind >> ns >> addr_text >> size;
    std::string name;
    if (!fields.fail()) std::getline(fields >> std::ws, name);
    if ((kind != "load" && kind != "free") || addr_text.rfind("0x", 0) != 0 || name.empty()) {
      *error = "event log line " + std::to_string(line_number) + " is not 'load|free NS 0xADDR SIZE NAME': " + line;
      return std::nullopt;
    }
    uint64_t addr = std::stoull(addr_text, nullptr, 16);
    if (kind == "load") {
      if (live.count(addr) != 0) {
        *error = "event log line " + std::to_string(line_number) + " loads over live " +
                 log.lifetimes_[live[addr]].name + ": " + line;
        return std::nullopt;
      }
      live[addr] = log.lifetimes_.size();
      log.lifetimes_.push_back(CodeLifetime{addr, size, name, ns, CodeLifetime::kNeverFreed});
    } else {
      auto it = live.find(addr);
      if (it == live.end() || log.lifetimes_[it->second].name != name || log.lifetimes_[it->second].size != size) {
        *error = "event log line " + std::to_string(line_number) + " frees code that is not live: " + line;
        return std::nullopt;
      }
      log.lifetimes_[it->second].free_ns = ns;
      live.erase(it);
    }
  }
  return log;
}

std::optional<JitEventLog> JitEventLog::Read(const std::string& path, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot read event log " + path;
    return std::nullopt;
  }
  std::stringstream text;
  text << in.rdbuf();
  std::optional<JitEventLog> log = Parse(text.str(), error);
  if (!log) *error = path + ": " + *error;
  return log;
}

const CodeLifetime* JitEventLog::Find(uint64_t ip, uint64_t ns) const {
  // A linear scan: test programs load tens of functions, not thousands.
  for (const CodeLifetime& code : lifetimes_) {
    if (code.Covers(ip) && code.LiveAt(ns)) return &code;
  }
  return nullptr;
}

std::string JitEventLog::NameOf(const std::string& lua_name) const {
  for (const CodeLifetime& code : lifetimes_) {
    if (code.name.rfind(lua_name + "@", 0) == 0) return code.name;
  }
  return "";
}

bool JitEventLog::HasAddressReuse(std::string* example) const {
  std::map<uint64_t, const CodeLifetime*> first_at;
  for (const CodeLifetime& code : lifetimes_) {
    auto [it, inserted] = first_at.emplace(code.addr, &code);
    if (!inserted && it->second->name != code.name) {
      std::ostringstream text;
      text << "0x" << std::hex << code.addr << std::dec << " held " << it->second->name << " then " << code.name;
      *example = text.str();
      return true;
    }
  }
  return false;
}

}  // namespace jitscope::perf_test
