#include "debuginfo/map_entry_json.h"

#include <stdexcept>

#include "debuginfo/result.h"

namespace jitscope {

nlohmann::json MapEntryToJson(const MapEntry& m) {
  return {{"start", HexAddress(m.start)}, {"end", HexAddress(m.end)}, {"offset", HexAddress(m.offset)},
          {"perms", m.Perms()},           {"device", m.device},       {"inode", m.inode},
          {"path", m.path},               {"deleted", m.deleted}};
}

MapEntry MapEntryFromJson(const nlohmann::json& m) {
  MapEntry e;
  e.start = ParseHexJson(m.at("start"));
  e.end = ParseHexJson(m.at("end"));
  e.offset = ParseHexJson(m.at("offset"));
  std::string perms = m.at("perms").get<std::string>();
  if (perms.size() != 4) throw std::runtime_error("bad perms '" + perms + "'");
  e.readable = perms[0] == 'r';
  e.writable = perms[1] == 'w';
  e.executable = perms[2] == 'x';
  e.shared = perms[3] == 's';
  e.device = m.value("device", "");
  e.inode = m.value("inode", uint64_t{0});
  e.path = m.at("path").get<std::string>();
  e.deleted = m.value("deleted", false);
  return e;
}

uint64_t ParseHexJson(const nlohmann::json& j) {
  std::string s = j.get<std::string>();
  if (s.rfind("0x", 0) == 0) s = s.substr(2);
  if (s.empty() || s.size() > 16 || s.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
    throw std::runtime_error("bad hex number '" + j.get<std::string>() + "'");
  return std::stoull(s, nullptr, 16);
}

}  // namespace jitscope
