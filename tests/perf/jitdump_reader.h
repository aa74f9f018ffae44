// An independent reader of perf's jitdump format, version 1 (linux
// tools/perf/Documentation/jitdump-specification.txt), strict enough to
// catch a writer's mistakes: every record's total_size must match its
// fields (up to 7 bytes of padding) and the records must tile the file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace jitscope::perf_test {

constexpr uint32_t kJitdumpMagic = 0x4A695444;  // "JiTD" as a little-endian u32
constexpr uint32_t kJitdumpHeaderSize = 40;
constexpr uint32_t kJitdumpRecordPrefixSize = 16;  // id, total_size, timestamp
constexpr uint32_t kElfMachineX86_64 = 62;

enum JitdumpRecordId : uint32_t {
  kJitCodeLoad = 0,
  kJitCodeMove = 1,
  kJitCodeDebugInfo = 2,
  kJitCodeClose = 3,
  kJitCodeUnwindingInfo = 4,
};

struct JitdumpHeader {
  uint32_t magic = 0;
  uint32_t version = 0;
  uint32_t total_size = 0;
  uint32_t elf_mach = 0;
  uint32_t pad1 = 0;
  uint32_t pid = 0;
  uint64_t timestamp = 0;
  uint64_t flags = 0;
};

struct JitdumpCodeLoad {
  uint32_t pid = 0;
  uint32_t tid = 0;
  uint64_t vma = 0;
  uint64_t code_addr = 0;
  uint64_t code_size = 0;
  uint64_t code_index = 0;
  std::string name;
  std::string code;  // the code bytes
};

struct JitdumpDebugEntry {
  uint64_t addr = 0;
  uint32_t line = 0;
  uint32_t discrim = 0;
  std::string name;  // source file; "\xff" means the previous entry's
};

struct JitdumpDebugInfo {
  uint64_t code_addr = 0;
  std::vector<JitdumpDebugEntry> entries;
};

struct JitdumpUnwindingInfo {
  uint64_t unwinding_size = 0;     // .eh_frame followed by .eh_frame_hdr
  uint64_t eh_frame_hdr_size = 0;  // the tail of the unwinding data
  uint64_t mapped_size = 0;        // what perf inject adds to the code's mapping
  std::string data;                // all bytes after the fields (unwinding data and padding)
};

struct JitdumpRecord {
  uint32_t id = 0;
  uint32_t total_size = 0;
  uint64_t timestamp = 0;
  uint64_t file_offset = 0;
  // Filled according to id.
  JitdumpCodeLoad load;
  JitdumpDebugInfo debug_info;
  JitdumpUnwindingInfo unwinding;
};

struct Jitdump {
  JitdumpHeader header;
  std::vector<JitdumpRecord> records;
};

std::optional<Jitdump> ParseJitdump(const std::string& bytes, std::string* error);
std::optional<Jitdump> ReadJitdump(const std::string& path, std::string* error);

}  // namespace jitscope::perf_test
