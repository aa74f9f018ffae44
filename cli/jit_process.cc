#include "jit_process.h"

#include <cstring>

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

}  // namespace jitscope::cli
