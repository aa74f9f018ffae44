#include "debuginfo/process_maps.h"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

namespace jitscope {
namespace {

constexpr std::string_view kDeletedSuffix = " (deleted)";

bool ParseHex(std::string_view text, uint64_t* value) {
  auto result = std::from_chars(text.data(), text.data() + text.size(), *value, 16);
  return result.ec == std::errc() && result.ptr == text.data() + text.size() && !text.empty();
}

// Splits off the next space-separated field.
std::string_view NextField(std::string_view* line) {
  size_t start = line->find_first_not_of(' ');
  if (start == std::string_view::npos) {
    *line = {};
    return {};
  }
  size_t end = line->find(' ', start);
  std::string_view field = line->substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
  *line = end == std::string_view::npos ? std::string_view{} : line->substr(end);
  return field;
}

bool ParseLine(std::string_view line, MapEntry* entry) {
  std::string_view range = NextField(&line);
  std::string_view perms = NextField(&line);
  std::string_view offset = NextField(&line);
  std::string_view device = NextField(&line);
  std::string_view inode = NextField(&line);
  size_t dash = range.find('-');
  if (dash == std::string_view::npos || perms.size() != 4) return false;
  if (!ParseHex(range.substr(0, dash), &entry->start) || !ParseHex(range.substr(dash + 1), &entry->end)) return false;
  if (entry->end < entry->start || !ParseHex(offset, &entry->offset)) return false;
  auto inode_result = std::from_chars(inode.data(), inode.data() + inode.size(), entry->inode);
  if (inode_result.ec != std::errc() || device.empty()) return false;
  entry->readable = perms[0] == 'r';
  entry->writable = perms[1] == 'w';
  entry->executable = perms[2] == 'x';
  entry->shared = perms[3] == 's';
  entry->device = std::string(device);
  // The path is the rest of the line after the padding; it may contain spaces.
  size_t path_start = line.find_first_not_of(' ');
  std::string_view path = path_start == std::string_view::npos ? std::string_view{} : line.substr(path_start);
  if (path.size() > kDeletedSuffix.size() && path.ends_with(kDeletedSuffix)) {
    entry->deleted = true;
    path.remove_suffix(kDeletedSuffix.size());
  }
  entry->path = std::string(path);
  return true;
}

}  // namespace

std::string MapEntry::Perms() const {
  std::string p;
  p += readable ? 'r' : '-';
  p += writable ? 'w' : '-';
  p += executable ? 'x' : '-';
  p += shared ? 's' : 'p';
  return p;
}

bool MapEntry::IsFileBacked() const { return !path.empty() && path[0] == '/' && inode != 0; }

Result<std::vector<MapEntry>> ParseProcessMaps(std::string_view text) {
  std::vector<MapEntry> maps;
  size_t line_number = 0;
  while (!text.empty()) {
    size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
    line_number++;
    if (line.empty()) continue;
    MapEntry entry;
    if (!ParseLine(line, &entry)) {
      return Error{"malformed maps line " + std::to_string(line_number) + ": '" + std::string(line) + "'"};
    }
    maps.push_back(std::move(entry));
  }
  return maps;
}

Result<std::vector<MapEntry>> ReadProcessMaps(pid_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/maps";
  std::ifstream file(path);
  if (!file) return Error{"cannot open " + path + ": " + std::strerror(errno)};
  std::stringstream contents;
  contents << file.rdbuf();
  if (file.bad()) return Error{"cannot read " + path + ": " + std::strerror(errno)};
  return ParseProcessMaps(contents.str());
}

}  // namespace jitscope
