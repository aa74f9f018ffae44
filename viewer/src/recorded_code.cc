#include "viewer/recorded_code.h"

#include <dirent.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>
#include <vector>

#include "perf_integration/jitdump_format.h"

namespace jitscope {
namespace {

struct Load {
  uint64_t timestamp = 0, address = 0, size = 0, index = 0;
  std::string name;
  std::vector<uint8_t> bytes;
  std::vector<std::pair<uint64_t, std::pair<uint32_t, std::string>>> lines;  // addr -> (line, file)
};

Result<bool> ReadDump(const std::string& path, std::vector<Load>* loads) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot open " + path};
  std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (data.size() > kMaxJitdumpFileBytes) return Error{path + " is larger than " + std::to_string(kMaxJitdumpFileBytes) + " bytes"};
  JitdumpFileHeader header;
  if (data.size() < sizeof(header)) return Error{path + ": truncated jitdump header"};
  memcpy(&header, data.data(), sizeof(header));
  if (header.magic != perf::kJitdumpMagic || header.version != perf::kJitdumpVersion)
    return Error{path + ": not a jitdump file of version 1 in this byte order"};
  uint64_t off = std::max<uint64_t>(header.total_size, sizeof(header));
  std::vector<std::pair<uint64_t, std::pair<uint32_t, std::string>>> pending_lines;
  while (off + sizeof(JitdumpRecordHeader) <= data.size()) {
    JitdumpRecordHeader rec;
    memcpy(&rec, data.data() + off, sizeof(rec));
    // A record still being written (or cut off) ends the file for us.
    if (rec.total_size < sizeof(rec) || rec.total_size > kMaxJitdumpRecordBytes || off + rec.total_size > data.size()) break;
    const uint8_t* p = data.data() + off;
    if (rec.id == kJitCodeLoad && rec.total_size >= sizeof(JitdumpCodeLoad)) {
      JitdumpCodeLoad load;
      memcpy(&load, p, sizeof(load));
      const char* name = reinterpret_cast<const char*>(p + sizeof(load));
      size_t room = rec.total_size - sizeof(load);
      size_t name_len = strnlen(name, room);
      if (name_len == room || load.code_size > room - name_len - 1)
        return Error{path + ": malformed CODE_LOAD record at offset " + std::to_string(off)};
      Load l;
      l.timestamp = rec.timestamp;
      l.address = load.code_addr;
      l.size = load.code_size;
      l.index = load.code_index;
      l.name.assign(name, name_len);
      const uint8_t* code = p + sizeof(load) + name_len + 1;
      l.bytes.assign(code, code + load.code_size);
      l.lines = std::move(pending_lines);
      pending_lines.clear();
      loads->push_back(std::move(l));
    } else if (rec.id == kJitCodeDebugInfo && rec.total_size >= sizeof(JitdumpDebugInfo)) {
      JitdumpDebugInfo info;
      memcpy(&info, p, sizeof(info));
      uint64_t at = sizeof(info);
      pending_lines.clear();
      for (uint64_t i = 0; i < info.nr_entry && at + sizeof(JitdumpDebugEntry) < rec.total_size; i++) {
        JitdumpDebugEntry e;
        memcpy(&e, p + at, sizeof(e));
        at += sizeof(e);
        const char* file = reinterpret_cast<const char*>(p + at);
        size_t len = strnlen(file, rec.total_size - at);
        if (at + len >= rec.total_size) break;
        pending_lines.push_back({e.addr, {e.lineno, std::string(file, len)}});
        at += len + 1;
      }
    } else if (rec.id == kJitCodeClose) {
      break;
    }
    off += rec.total_size;
  }
  return true;
}

}  // namespace

Result<RecordedCode> ReadRecordedCode(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (!d) return Error{"cannot read directory " + dir + ": " + std::strerror(errno)};
  std::vector<std::string> dumps;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.starts_with("jit-") && name.ends_with(".dump")) dumps.push_back(dir + "/" + name);
  }
  closedir(d);
  std::sort(dumps.begin(), dumps.end());
  RecordedCode out;
  std::vector<Load> loads;
  for (const std::string& path : dumps) {
    Result<bool> ok = ReadDump(path, &loads);
    if (!ok) return std::move(ok).take_error();
    out.dumps++;
  }
  out.loads = loads.size();
  std::stable_sort(loads.begin(), loads.end(), [](const Load& a, const Load& b) { return a.timestamp < b.timestamp; });
  // What is live at the end: a load replaces every earlier load it overlaps
  // (code freed and its address reused).
  std::map<uint64_t, Load> live;  // by start
  for (Load& l : loads) {
    if (l.size == 0) continue;
    auto it = live.lower_bound(l.address);
    if (it != live.begin()) --it;
    while (it != live.end() && it->first < l.address + l.size) {
      if (it->first + it->second.size > l.address) {
        it = live.erase(it);
        out.replaced++;
      } else {
        ++it;
      }
    }
    live.emplace(l.address, std::move(l));
  }
  out.code = std::make_unique<SnapshotMemory>();
  DescriptorView view;
  view.location.module_path = dir;
  for (auto& [start, l] : live) {
    auto info = std::make_shared<SymfileInfo>();
    info->kind = SymfileKind::kSingle;
    info->text_address = l.address;
    info->text_size = l.size;
    SymfileFunction f;
    f.address = l.address;
    f.size = l.size;
    f.name = l.name;
    std::map<std::string, uint32_t> files;
    std::sort(l.lines.begin(), l.lines.end());
    for (const auto& [addr, line] : l.lines) {
      if (addr < l.address || addr >= l.address + l.size) continue;
      auto [fit, added] = files.emplace(line.second, static_cast<uint32_t>(info->files.size()));
      if (added) info->files.push_back(line.second);
      info->lines.push_back(SymfileLine{addr, line.first, fit->second});
      if (f.file.empty()) f.file = line.second, f.line = line.first;
    }
    info->functions.push_back(std::move(f));
    SnapshotEntry e;
    e.entry_address = l.index;  // no descriptor entry: the load's code_index names it
    e.symfile_addr = 0;
    e.timestamp = l.timestamp;
    e.info = std::move(info);
    view.entries.push_back(std::move(e));
    out.code->AddRegion(l.address, std::move(l.bytes));
  }
  // Newest first, like a descriptor's list.
  std::reverse(view.entries.begin(), view.entries.end());
  out.jit.descriptors.push_back(std::move(view));
  return out;
}

}  // namespace jitscope
