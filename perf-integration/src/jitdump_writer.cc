#include "perf_integration/jitdump_writer.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "debuginfo/elf_writer.h"
#include "debuginfo/result.h"
#include "perf_integration/jitdump_format.h"

namespace jitscope::perf {

namespace {

uint64_t AlignUp8(uint64_t v) { return (v + 7) & ~uint64_t{7}; }

template <typename T>
void Append(std::vector<uint8_t>& out, const T& value) {
  const auto* p = reinterpret_cast<const uint8_t*>(&value);
  out.insert(out.end(), p, p + sizeof(T));
}

void AppendBytes(std::vector<uint8_t>& out, const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  out.insert(out.end(), p, p + n);
}

void AppendString(std::vector<uint8_t>& out, const std::string& s) {
  AppendBytes(out, s.data(), s.size());
  out.push_back(0);
}

// Patches the total_size of the record that starts at `start` (its header
// was appended with total_size 0) and pads it to 8 bytes, as perf's reader
// expects every record to start 8-aligned.
void FinishRecord(std::vector<uint8_t>& out, size_t start, bool pad) {
  if (pad) out.resize(start + AlignUp8(out.size() - start), 0);
  uint32_t size = static_cast<uint32_t>(out.size() - start);
  memcpy(out.data() + start + offsetof(JitdumpRecordHeader, total_size), &size, sizeof(size));
}

size_t BeginRecord(std::vector<uint8_t>& out, uint32_t id, uint64_t timestamp) {
  size_t start = out.size();
  JitdumpRecordHeader h{id, 0, timestamp};
  Append(out, h);
  return start;
}

// A debug entry per change of line; the function's first line at its start
// when the table does not begin there (perf shows it for every sample in the
// function's prologue).
void AppendDebugInfo(std::vector<uint8_t>& out, const CodeInfo& code, uint64_t timestamp, uint64_t* entries) {
  const std::string& file = code.source.empty() ? code.name : code.source;
  size_t start = BeginRecord(out, kJitCodeDebugInfo, timestamp);
  Append(out, code.address);
  size_t count_at = out.size();
  Append(out, uint64_t{0});
  uint64_t n = 0;
  auto add = [&](uint64_t offset, uint32_t line) {
    JitdumpDebugEntry e{code.address + offset, line, 0};
    Append(out, e);
    AppendString(out, file);
    n++;
  };
  uint32_t last_line = 0;
  uint64_t last_offset = 0;
  if (code.lines.empty() || code.lines.front().code_offset != 0 || code.lines.front().line == 0) {
    last_line = code.first_line ? code.first_line : 1;
    add(0, last_line);
  }
  for (const LineEntry& l : code.lines) {
    if (l.line == 0 || l.line == last_line || l.code_offset >= code.size) continue;
    add(l.code_offset, l.line);
    last_line = l.line;
    last_offset = l.code_offset;
  }
  // perf's line program ends its sequence at the last entry, so without an
  // entry at the end the last line would cover no bytes.
  if (code.size > 1 && last_offset < code.size - 1) add(code.size - 1, last_line);
  memcpy(out.data() + count_at, &n, sizeof(n));
  FinishRecord(out, start, /*pad=*/true);
  *entries += n;
}

bool WriteAll(int fd, const uint8_t* data, size_t n, std::string* error, const std::string& path) {
  while (n > 0) {
    ssize_t w = write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      *error = "cannot write '" + path + "': " + strerror(errno);
      return false;
    }
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

}  // namespace

uint64_t MonotonicNowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

std::unique_ptr<JitdumpWriter> JitdumpWriter::Create(const std::string& dir, std::string* error,
                                                     uint32_t header_pid) {
  std::string path = (dir.empty() ? std::string(".") : dir) + "/jit-" + std::to_string(getpid()) + ".dump";
  return CreateAt(path, /*map_marker=*/true, error, header_pid);
}

std::unique_ptr<JitdumpWriter> JitdumpWriter::CreateAt(const std::string& path, bool map_marker, std::string* error,
                                                       uint32_t header_pid) {
  std::unique_ptr<JitdumpWriter> w(new JitdumpWriter());
  uint32_t pid = static_cast<uint32_t>(getpid());
  w->path_ = path;
  w->fd_ = open(w->path_.c_str(), O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0644);
  if (w->fd_ < 0) {
    *error = "cannot create '" + w->path_ + "': " + strerror(errno);
    return nullptr;
  }
  JitdumpFileHeader h{};
  h.magic = kJitdumpMagic;
  h.version = kJitdumpVersion;
  h.total_size = sizeof(JitdumpFileHeader);
  h.elf_mach = kElfMachineX86_64;
  h.pid = header_pid ? header_pid : pid;
  h.timestamp = MonotonicNowNs();
  h.flags = 0;
  if (!WriteAll(w->fd_, reinterpret_cast<const uint8_t*>(&h), sizeof(h), error, w->path_)) return nullptr;
  w->stats_.bytes = sizeof(h);
  if (!map_marker) return w;
  // perf only needs to see the mapping; it never reads through it. PROT_EXEC
  // without PROT_WRITE: never writable and executable at once.
  w->marker_size_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  w->marker_ = mmap(nullptr, w->marker_size_, PROT_READ | PROT_EXEC, MAP_PRIVATE, w->fd_, 0);
  if (w->marker_ == MAP_FAILED) {
    w->marker_ = nullptr;
    *error = "cannot map '" + w->path_ + "' PROT_EXEC (perf record must see the mapping; is the file system "
             "mounted noexec?): " + strerror(errno);
    unlink(w->path_.c_str());
    return nullptr;
  }
  return w;
}

JitdumpWriter::~JitdumpWriter() {
  Close();
  if (marker_) munmap(marker_, marker_size_);
  if (fd_ >= 0) close(fd_);
}

uint64_t JitdumpWriter::ReservedTailBytes(const FrameDescription& frame, uint64_t code_size) {
  if (frame.rows.empty() || code_size == 0) return 0;
  CodeInfo probe;
  probe.name = "probe";
  probe.address = 0x10000;  // the size of pc-relative unwind data does not depend on the address
  probe.size = code_size;
  probe.frame = frame;
  EhFrameImage eh = WriteEhFrameWithHdr(probe, probe.address);
  if (eh.bytes.empty()) return 0;
  return AlignUp8(code_size) - code_size + eh.mapped_size;
}

bool JitdumpWriter::WriteLoad(const CodeInfo& code, const LoadOptions& options, std::string* error) {
  if (!code.code_bytes || code.size == 0) {
    *error = "code at " + HexAddress(code.address) + " has no bytes";
    return false;
  }
  // Unwind data is built outside the lock: it is the expensive part and
  // depends only on the code.
  EhFrameImage eh;
  if (options.unwinding_info && !code.frame.rows.empty()) eh = WriteEhFrameWithHdr(code, code.address);
  uint32_t pid = options.pid ? options.pid : static_cast<uint32_t>(getpid());
  uint32_t tid = options.tid ? options.tid : static_cast<uint32_t>(syscall(SYS_gettid));

  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) {
    *error = "'" + path_ + "' is closed";
    return false;
  }
  uint64_t ts = options.timestamp_ns ? options.timestamp_ns : MonotonicNowNs();
  if (ts < last_timestamp_) ts = last_timestamp_;  // records must be in time order
  last_timestamp_ = ts;
  std::vector<uint8_t>& out = buffer_;
  out.clear();
  if (options.debug_info) AppendDebugInfo(out, code, ts, &stats_.debug_entries);
  if (!eh.bytes.empty()) {
    size_t start = BeginRecord(out, kJitCodeUnwindingInfo, ts);
    Append(out, eh.unwinding_size);
    Append(out, eh.eh_frame_hdr_size);
    Append(out, eh.mapped_size);
    AppendBytes(out, eh.bytes.data(), eh.bytes.size());
    FinishRecord(out, start, /*pad=*/true);
    stats_.unwinding_bytes += eh.bytes.size();
  }
  size_t start = BeginRecord(out, kJitCodeLoad, ts);
  Append(out, pid);
  Append(out, tid);
  Append(out, code.address);  // vma
  Append(out, code.address);  // code_addr
  Append(out, code.size);
  Append(out, next_index_);
  AppendString(out, code.name);
  AppendBytes(out, code.code_bytes, code.size);
  // perf reads the code as the record's last code_size bytes: no padding.
  FinishRecord(out, start, /*pad=*/false);
  if (!WriteLocked(out, error)) return false;
  next_index_++;
  stats_.loads++;
  return true;
}

bool JitdumpWriter::Close(uint64_t timestamp_ns) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_ || fd_ < 0) return true;
  closed_ = true;
  uint64_t ts = timestamp_ns ? timestamp_ns : MonotonicNowNs();
  if (ts < last_timestamp_) ts = last_timestamp_;
  std::vector<uint8_t> out;
  size_t start = BeginRecord(out, kJitCodeClose, ts);
  FinishRecord(out, start, /*pad=*/false);
  std::string error;
  return WriteLocked(out, &error);
}

bool JitdumpWriter::WriteLocked(const std::vector<uint8_t>& bytes, std::string* error) {
  if (!WriteAll(fd_, bytes.data(), bytes.size(), error, path_)) return false;
  stats_.bytes += bytes.size();
  return true;
}

JitdumpStats JitdumpWriter::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace jitscope::perf
