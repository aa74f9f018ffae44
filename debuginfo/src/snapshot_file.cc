#include "debuginfo/snapshot_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "debuginfo/atomic_file.h"
#include "debuginfo/map_entry_json.h"

namespace jitscope {
namespace {

constexpr size_t kHeaderSize = 32;

DescriptorVariant VariantFromName(const std::string& name) {
  if (name == "Android2") return DescriptorVariant::kAndroid2;
  if (name == "Android1") return DescriptorVariant::kAndroid1;
  return DescriptorVariant::kGdbV1;
}

}  // namespace

size_t CaptureJitCode(Memory& memory, ProcessSnapshot* snapshot) {
  std::map<uint64_t, uint64_t> ranges;  // start -> end, merged
  for (const DescriptorView& d : snapshot->jit.descriptors)
    for (const SnapshotEntry& e : d.entries)
      if (e.info)
        for (const SymfileFunction& f : e.info->functions) {
          if (f.size == 0 || f.address + f.size < f.address) continue;
          uint64_t start = f.address, end = f.address + f.size;
          auto it = ranges.upper_bound(start);
          if (it != ranges.begin() && std::prev(it)->second >= start) {
            --it;
            start = it->first;
            end = std::max(end, it->second);
            it = ranges.erase(it);
          }
          while (it != ranges.end() && it->first <= end) {
            end = std::max(end, it->second);
            it = ranges.erase(it);
          }
          ranges[start] = end;
        }
  size_t missed = 0;
  uint64_t total = 0;
  for (const auto& [start, end] : ranges) {
    if (total + (end - start) > kMaxSnapshotCodeBytes) {
      missed++;
      continue;
    }
    std::vector<uint8_t> bytes(end - start);
    if (!memory.ReadFully(start, bytes.data(), bytes.size())) {
      missed++;
      continue;
    }
    total += bytes.size();
    snapshot->code.AddRegion(start, std::move(bytes));
  }
  return missed;
}

Result<bool> WriteSnapshotFile(const ProcessSnapshot& s, const std::string& path) {
  std::vector<uint8_t> blobs;
  auto add_blob = [&blobs](const uint8_t* data, size_t size, nlohmann::json& j) {
    j["blob_offset"] = blobs.size();
    j["blob_size"] = size;
    blobs.insert(blobs.end(), data, data + size);
  };
  nlohmann::json maps = nlohmann::json::array();
  for (const MapEntry& m : s.maps) maps.push_back(MapEntryToJson(m));
  auto descriptors_json = [&](const JitSnapshot& snap) {
  nlohmann::json descriptors = nlohmann::json::array();
  for (const DescriptorView& d : snap.descriptors) {
    nlohmann::json entries = nlohmann::json::array();
    for (const SnapshotEntry& e : d.entries) {
      nlohmann::json j{{"entry", HexAddress(e.entry_address)},
                       {"symfile_addr", HexAddress(e.symfile_addr)},
                       {"symfile_size", e.symfile_size},
                       {"timestamp", e.timestamp},
                       {"seqlock", e.seqlock}};
      if (!e.problem.empty()) j["problem"] = e.problem;
      if (e.symfile) add_blob(e.symfile->data(), e.symfile->size(), j);
      entries.push_back(std::move(j));
    }
    descriptors.push_back({{"address", HexAddress(d.location.address)},
                           {"module", d.location.module_path},
                           {"variant", DescriptorVariantName(d.header.variant)},
                           {"version", d.header.version},
                           {"seqlock", d.header.seqlock},
                           {"timestamp", d.header.timestamp},
                           {"entries", std::move(entries)}});
  }
  return descriptors;
  };
  nlohmann::json descriptors = descriptors_json(s.jit);
  nlohmann::json sources = descriptors_json(s.sources);
  nlohmann::json code = nlohmann::json::array();
  for (const auto& [address, bytes] : s.code.regions()) {
    nlohmann::json j{{"address", HexAddress(address)}};
    add_blob(bytes.data(), bytes.size(), j);
    code.push_back(std::move(j));
  }
  nlohmann::json doc{{"pid", s.pid},        {"comm", s.comm},
                     {"taken_ns", s.jit.taken_ns}, {"synchronized", s.jit.synchronized},
                     {"maps", maps},        {"descriptors", descriptors}, {"sources", sources},
                     {"code", code}};
  std::string json = doc.dump();
  uint8_t header[kHeaderSize] = {};
  memcpy(header, kSnapshotMagic, 8);
  uint32_t version = kSnapshotVersion, flags = 0;
  uint64_t json_size = json.size(), blob_size = blobs.size();
  memcpy(header + 8, &version, 4);
  memcpy(header + 12, &flags, 4);
  memcpy(header + 16, &json_size, 8);
  memcpy(header + 24, &blob_size, 8);

  return WriteFileAtomically(path, {std::string_view(reinterpret_cast<const char*>(header), sizeof(header)), json,
                                    std::string_view(reinterpret_cast<const char*>(blobs.data()), blobs.size())});
}

bool LooksLikeSnapshotFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[8] = {};
  return in.read(magic, 8) && memcmp(magic, kSnapshotMagic, 8) == 0;
}

Result<ProcessSnapshot> ReadSnapshotFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return Error{"cannot open " + path + ": " + strerror(errno)};
  std::streamoff size = in.tellg();
  if (size < static_cast<std::streamoff>(kHeaderSize)) return Error{path + ": truncated snapshot (no header)"};
  if (static_cast<uint64_t>(size) > kMaxSnapshotFileBytes) return Error{path + ": larger than any snapshot we write"};
  in.seekg(0);
  std::vector<uint8_t> file(static_cast<size_t>(size));
  if (!in.read(reinterpret_cast<char*>(file.data()), size)) return Error{"cannot read " + path};
  if (memcmp(file.data(), kSnapshotMagic, 8) != 0) return Error{path + ": not a jitscope snapshot (bad magic)"};
  uint32_t version;
  uint64_t json_size, blob_size;
  memcpy(&version, file.data() + 8, 4);
  memcpy(&json_size, file.data() + 16, 8);
  memcpy(&blob_size, file.data() + 24, 8);
  if (version != kSnapshotVersion)
    return Error{path + ": snapshot version " + std::to_string(version) + " (this jitscope reads version " +
                 std::to_string(kSnapshotVersion) + ")"};
  uint64_t body = file.size() - kHeaderSize;
  if (json_size > body || blob_size != body - json_size)
    return Error{path + ": truncated or corrupt snapshot (sizes do not match the file)"};
  const uint8_t* blobs = file.data() + kHeaderSize + json_size;
  ProcessSnapshot s;
  try {
    nlohmann::json doc = nlohmann::json::parse(file.begin() + kHeaderSize, file.begin() + kHeaderSize + json_size);
    auto blob = [&](const nlohmann::json& j, std::vector<uint8_t>* out) -> bool {
      if (!j.contains("blob_offset")) return false;
      uint64_t off = j["blob_offset"].get<uint64_t>(), n = j["blob_size"].get<uint64_t>();
      if (off > blob_size || n > blob_size - off) throw std::runtime_error("a blob lies outside the blob area");
      out->assign(blobs + off, blobs + off + n);
      return true;
    };
    s.pid = doc.at("pid").get<int>();
    s.comm = doc.at("comm").get<std::string>();
    s.jit.taken_ns = doc.at("taken_ns").get<uint64_t>();
    s.jit.synchronized = doc.at("synchronized").get<bool>();
    for (const nlohmann::json& m : doc.at("maps")) s.maps.push_back(MapEntryFromJson(m));
    auto read_descriptors = [&](const nlohmann::json& list, JitSnapshot* into, bool elf) {
    for (const nlohmann::json& d : list) {
      DescriptorView view;
      view.location.address = ParseHexJson(d.at("address"));
      view.location.module_path = d.at("module").get<std::string>();
      view.header.address = view.location.address;
      view.header.variant = VariantFromName(d.at("variant").get<std::string>());
      view.header.version = d.at("version").get<uint32_t>();
      view.header.seqlock = d.at("seqlock").get<uint32_t>();
      view.header.timestamp = d.at("timestamp").get<uint64_t>();
      view.header.synchronized = view.header.variant != DescriptorVariant::kGdbV1;
      for (const nlohmann::json& j : d.at("entries")) {
        SnapshotEntry e;
        e.entry_address = ParseHexJson(j.at("entry"));
        e.symfile_addr = ParseHexJson(j.at("symfile_addr"));
        e.symfile_size = j.at("symfile_size").get<uint64_t>();
        e.timestamp = j.at("timestamp").get<uint64_t>();
        e.seqlock = j.at("seqlock").get<uint32_t>();
        e.problem = j.value("problem", "");
        std::vector<uint8_t> bytes;
        if (blob(j, &bytes) && !elf) {
          e.symfile = std::make_shared<const std::vector<uint8_t>>(std::move(bytes));
        } else if (!bytes.empty()) {
          Result<SymfileInfo> info = ParseSymfile(bytes.data(), bytes.size());
          if (info) {
            e.info = std::make_shared<const SymfileInfo>(std::move(*info));
          } else if (e.problem.empty()) {
            e.problem = "symbol file: " + info.error();
          }
          e.symfile = std::make_shared<const std::vector<uint8_t>>(std::move(bytes));
        }
        view.entries.push_back(std::move(e));
      }
      into->descriptors.push_back(std::move(view));
    }
    };
    read_descriptors(doc.at("descriptors"), &s.jit, true);
    if (doc.contains("sources")) read_descriptors(doc.at("sources"), &s.sources, false);
    for (const nlohmann::json& c : doc.at("code")) {
      std::vector<uint8_t> bytes;
      if (!blob(c, &bytes) || !s.code.AddRegion(ParseHexJson(c.at("address")), std::move(bytes)))
        throw std::runtime_error("bad code region");
    }
  } catch (const std::exception& e) {
    return Error{path + ": corrupt snapshot: " + e.what()};
  }
  return s;
}

}  // namespace jitscope
