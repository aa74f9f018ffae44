#include "jitdump_reader.h"

#include <cstring>
#include <fstream>
#include <sstream>

namespace jitscope::perf_test {
namespace {

// perf's own agents pad records to 8 bytes; more than that is a size bug.
constexpr uint64_t kMaxPadding = 7;

// Bounds-checked little-endian reads over one record's bytes.
class Cursor {
 public:
  Cursor(const std::string& bytes, uint64_t begin, uint64_t end) : bytes_(bytes), pos_(begin), end_(end) {}

  bool U32(uint32_t* v) { return Raw(v, sizeof(*v)); }
  bool U64(uint64_t* v) { return Raw(v, sizeof(*v)); }
  bool CString(std::string* s) {
    const void* nul = std::memchr(bytes_.data() + pos_, '\0', end_ - pos_);
    if (nul == nullptr) return false;
    uint64_t n = static_cast<const char*>(nul) - (bytes_.data() + pos_);
    s->assign(bytes_, pos_, n);
    pos_ += n + 1;
    return true;
  }
  bool Bytes(uint64_t n, std::string* s) {
    if (n > end_ - pos_) return false;
    s->assign(bytes_, pos_, n);
    pos_ += n;
    return true;
  }
  uint64_t left() const { return end_ - pos_; }

 private:
  bool Raw(void* v, size_t n) {
    if (n > end_ - pos_) return false;
    std::memcpy(v, bytes_.data() + pos_, n);  // x86-64 only, like jitvm: host order is little-endian
    pos_ += n;
    return true;
  }

  const std::string& bytes_;
  uint64_t pos_;
  uint64_t end_;
};

std::string At(uint64_t offset) {
  std::ostringstream text;
  text << "record at file offset " << offset;
  return text.str();
}

bool ParseBody(Cursor& body, JitdumpRecord* record, std::string* error) {
  switch (record->id) {
    case kJitCodeLoad: {
      JitdumpCodeLoad& load = record->load;
      if (!body.U32(&load.pid) || !body.U32(&load.tid) || !body.U64(&load.vma) || !body.U64(&load.code_addr) ||
          !body.U64(&load.code_size) || !body.U64(&load.code_index) || !body.CString(&load.name) ||
          !body.Bytes(load.code_size, &load.code)) {
        *error = At(record->file_offset) + " (CODE_LOAD) is shorter than its fields, name and code";
        return false;
      }
      break;
    }
    case kJitCodeDebugInfo: {
      uint64_t count = 0;
      if (!body.U64(&record->debug_info.code_addr) || !body.U64(&count)) {
        *error = At(record->file_offset) + " (CODE_DEBUG_INFO) is shorter than its fields";
        return false;
      }
      for (uint64_t i = 0; i < count; i++) {
        JitdumpDebugEntry entry;
        if (!body.U64(&entry.addr) || !body.U32(&entry.line) || !body.U32(&entry.discrim) ||
            !body.CString(&entry.name)) {
          *error = At(record->file_offset) + " (CODE_DEBUG_INFO) ends inside entry " + std::to_string(i) + " of " +
                   std::to_string(count);
          return false;
        }
        record->debug_info.entries.push_back(entry);
      }
      break;
    }
    case kJitCodeUnwindingInfo: {
      JitdumpUnwindingInfo& u = record->unwinding;
      if (!body.U64(&u.unwinding_size) || !body.U64(&u.eh_frame_hdr_size) || !body.U64(&u.mapped_size)) {
        *error = At(record->file_offset) + " (CODE_UNWINDING_INFO) is shorter than its fields";
        return false;
      }
      if (u.unwinding_size > body.left()) {
        *error = At(record->file_offset) + " (CODE_UNWINDING_INFO) has unwinding_size " +
                 std::to_string(u.unwinding_size) + " but only " + std::to_string(body.left()) + " bytes of data";
        return false;
      }
      body.Bytes(body.left(), &u.data);
      return true;  // the data is the rest by definition
    }
    case kJitCodeClose:
      break;
    default:
      // CODE_MOVE and future records are skipped by perf; the contract
      // checks which ids appear.
      body.Bytes(body.left(), &record->unwinding.data);
      return true;
  }
  if (body.left() > kMaxPadding) {
    *error = At(record->file_offset) + " (id " + std::to_string(record->id) + ") has " +
             std::to_string(body.left()) + " bytes after its contents: total_size is wrong";
    return false;
  }
  return true;
}

}  // namespace

std::optional<Jitdump> ParseJitdump(const std::string& bytes, std::string* error) {
  Jitdump dump;
  Cursor header(bytes, 0, bytes.size());
  JitdumpHeader& h = dump.header;
  if (!header.U32(&h.magic) || !header.U32(&h.version) || !header.U32(&h.total_size) || !header.U32(&h.elf_mach) ||
      !header.U32(&h.pad1) || !header.U32(&h.pid) || !header.U64(&h.timestamp) || !header.U64(&h.flags)) {
    *error = "the file is shorter than the 40-byte jitdump header (" + std::to_string(bytes.size()) + " bytes)";
    return std::nullopt;
  }
  if (h.magic != kJitdumpMagic) {
    *error = "bad jitdump magic " + std::to_string(h.magic);
    return std::nullopt;
  }
  if (h.total_size < kJitdumpHeaderSize || h.total_size > bytes.size()) {
    *error = "jitdump header total_size " + std::to_string(h.total_size) + " is impossible";
    return std::nullopt;
  }
  uint64_t offset = h.total_size;
  while (offset < bytes.size()) {
    JitdumpRecord record;
    record.file_offset = offset;
    Cursor prefix(bytes, offset, bytes.size());
    if (!prefix.U32(&record.id) || !prefix.U32(&record.total_size) || !prefix.U64(&record.timestamp)) {
      *error = At(offset) + " is cut off inside its 16-byte prefix (file size " + std::to_string(bytes.size()) + ")";
      return std::nullopt;
    }
    if (record.total_size < kJitdumpRecordPrefixSize || record.total_size > bytes.size() - offset) {
      *error = At(offset) + " has total_size " + std::to_string(record.total_size) + " with " +
               std::to_string(bytes.size() - offset) + " bytes left in the file";
      return std::nullopt;
    }
    Cursor body(bytes, offset + kJitdumpRecordPrefixSize, offset + record.total_size);
    if (!ParseBody(body, &record, error)) return std::nullopt;
    offset += record.total_size;
    dump.records.push_back(std::move(record));
  }
  return dump;
}

std::optional<Jitdump> ReadJitdump(const std::string& path, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot read " + path;
    return std::nullopt;
  }
  std::stringstream bytes;
  bytes << in.rdbuf();
  std::optional<Jitdump> dump = ParseJitdump(bytes.str(), error);
  if (!dump) *error = path + ": " + *error;
  return dump;
}

}  // namespace jitscope::perf_test
