#include "jit_process.h"

#include <cerrno>
#include <cstring>

#include <unistd.h>

#include "command.h"
#include "unwinder/process_freezer.h"
#include "unwinder/process_info.h"
#include "unwinder/remote_memory.h"

namespace jitscope::cli {

Result<DescriptorSnapshot> ReadDescriptorAt(pid_t pid, uint64_t address) {
  RemoteMemory memory(pid);
  DescriptorReader reader(memory);
  Result<DescriptorSnapshot> snapshot = reader.Read(address);
  if (!snapshot.ok() && memory.last_error() != 0) {
    // The reader names the address; the OS says why (EPERM, ESRCH...).
    return Error{snapshot.error() + ": " + std::strerror(memory.last_error())};
  }
  return snapshot;
}

Result<std::vector<DescriptorReport>> InspectProcess(DescriptorLocator& locator, pid_t pid, std::string_view symbol) {
  if (!ProcessExists(pid)) return Error{"process " + std::to_string(pid) + " does not exist"};
  Result<std::vector<DescriptorLocation>> locations = locator.Locate(pid, symbol);
  if (!locations) return std::move(locations).take_error();
  std::vector<DescriptorReport> reports;
  for (const DescriptorLocation& location : *locations) {
    reports.push_back(DescriptorReport{location, ReadDescriptorAt(pid, location.address)});
  }
  return reports;
}

namespace {
std::string PermissionAdvice(pid_t pid) {
  return "permission denied reading process " + std::to_string(pid) +
         ": run as the same user as the target (or root), and check /proc/sys/kernel/yama/ptrace_scope "
         "(1 allows only descendants; set it to 0 or use sudo)";
}
}  // namespace

Result<Target> OpenTarget(pid_t pid, const std::string& command, bool stop) {
  if (!ProcessExists(pid)) return Error{"process " + std::to_string(pid) + " does not exist"};
  Target t;
  t.pid = pid;
  t.comm = ReadProcessComm(pid);
  Result<std::vector<MapEntry>> maps = ReadProcessMaps(pid);
  if (!maps) {
    if (!ProcessExists(pid)) return Error{"process " + std::to_string(pid) + " exited during the read"};
    return std::move(maps).take_error();
  }
  t.maps = std::move(*maps);
  DescriptorLocator locator;
  Result<std::vector<DescriptorLocation>> locations = locator.LocateInMaps(t.maps, pid);
  if (!locations) return std::move(locations).take_error();
  if (locations->empty())
    return Error{"process " + std::to_string(pid) + " (" + t.comm + ") has no JIT descriptor (" +
                 std::string(kJitDescriptorSymbol) + " is not defined by any mapped ELF file)"};
  t.memory = std::make_unique<RemoteMemory>(pid);
  // Probe once so that EPERM is reported as such, not as a bad descriptor.
  uint32_t probe = 0;
  if (!t.memory->Read32(locations->front().address, &probe)) {
    int err = t.memory->last_error();
    if (err == EPERM || err == EACCES) return Error{PermissionAdvice(pid)};
    if (err == ESRCH || !ProcessExists(pid)) return Error{"process " + std::to_string(pid) + " exited during the read"};
    return Error{"cannot read descriptor at " + HexAddress(locations->front().address) + ": " + std::strerror(err)};
  }
  t.snapshotter = std::make_unique<JitSnapshotter>(*t.memory, std::move(*locations));
  ProcessFreezer freezer;
  if (stop) {
    Result<bool> frozen = freezer.Freeze(pid);
    if (!frozen) return std::move(frozen).take_error();
    t.frozen = true;
  }
  Result<bool> polled = t.snapshotter->Poll();
  freezer.Thaw();
  if (!polled) {
    if (!ProcessExists(pid)) return Error{"process " + std::to_string(pid) + " exited during the read"};
    return Error{polled.error()};
  }
  // The source descriptor (same ABI; payloads are source blobs, not ELF).
  Result<std::vector<DescriptorLocation>> src = locator.LocateInMaps(t.maps, pid, kSourceDescriptorSymbol);
  if (src && !src->empty()) {
    t.sources = std::make_unique<JitSnapshotter>(*t.memory, std::move(*src), DescriptorReaderLimits{}, false);
    if (!t.sources->Poll()) t.sources.reset();  // source is a bonus: code maps work without it
  }
  (void)command;
  return t;
}

std::map<std::string, SourceBlob> Target::SourceBlobs() const {
  std::map<std::string, SourceBlob> out;
  const JitSnapshot* snap = offline ? &offline->sources : sources ? &sources->snapshot() : nullptr;
  if (!snap) return out;
  for (const DescriptorView& d : snap->descriptors)
    for (const SnapshotEntry& e : d.entries) {
      if (!e.symfile) continue;
      SourceBlob blob;
      std::string error;
      if (DecodeSourceBlob(e.symfile->data(), e.symfile->size(), &blob, &error)) out[blob.chunk_name] = std::move(blob);
    }
  return out;
}

std::optional<Result<Target>> OpenTargetArgument(const std::string& argument, const std::string& command,
                                                 bool stop) {
  if (std::optional<int> pid = ParsePid(argument)) return OpenTarget(*pid, command, stop);
  if (access(argument.c_str(), F_OK) != 0) return std::nullopt;
  if (!LooksLikeSnapshotFile(argument))
    return Result<Target>(Error{argument + " is neither a process id nor a jitscope snapshot file"});
  Result<ProcessSnapshot> loaded = ReadSnapshotFile(argument);
  if (!loaded) return Result<Target>(std::move(loaded).take_error());
  Target t;
  t.pid = loaded->pid;
  t.comm = loaded->comm;
  t.maps = loaded->maps;
  t.offline = std::make_unique<ProcessSnapshot>(std::move(*loaded));
  return Result<Target>(std::move(t));
}

}  // namespace jitscope::cli
