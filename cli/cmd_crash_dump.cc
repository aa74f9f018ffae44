// `jitscope crash-dump`: internal, started by a crashing jitvm's signal handler.
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <string>

#include "command.h"
#include "unwinder/crash_dump.h"
#include "unwinder/tombstone.h"

namespace jitscope::cli {
namespace {

constexpr std::string_view kUsage =
    "Usage: jitscope crash-dump [--status-fd=N] < REQUEST\n"
    "\n"
    "Internal: the crash dumper a crashing jitvm starts from its signal\n"
    "handler (like Android's crash_dump). Reads the crash request from stdin\n"
    "(pid, tid, signal, the addresses of the siginfo and ucontext, the\n"
    "tombstone path; docs/tombstones.md), stops every thread of the process\n"
    "with ptrace, reads the registers at the fault, copies the JIT debug\n"
    "info, unwinds every thread, writes the tombstone atomically, detaches\n"
    "and prints the tombstone's path on stderr.\n"
    "\n"
    "Options:\n"
    "  --status-fd=N   write 'k' to fd N once the tombstone is written (the\n"
    "                  crashing process waits for it)\n"
    "\n"
    "Exit status: 0 when the tombstone was written, 1 otherwise.\n";

int Run(const ParsedArgs& args) {
  int status_fd = -1;
  if (std::optional<std::string> fd = args.Value("status-fd")) {
    char* end = nullptr;
    long v = strtol(fd->c_str(), &end, 10);
    if (fd->empty() || *end || v < 0 || v > 1 << 20) return UsageError(*FindCommand("crash-dump"), "bad --status-fd");
    status_fd = static_cast<int>(v);
  }
  // Bounds the request: it is a dozen short lines.
  constexpr size_t kMaxRequest = 64 * 1024;
  std::string text;
  char buf[4096];
  for (;;) {
    ssize_t n = read(0, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kMaxRequest) break;
  }
  Result<CrashRequest> request = ParseCrashRequest(text);
  if (!request) {
    std::cerr << "jitscope crash-dump: " << request.error() << "\n";
    return kExitFailure;
  }
  Result<Tombstone> tombstone = DumpCrashedProcess(*request);
  if (!tombstone) {
    std::cerr << "jitscope crash-dump: " << tombstone.error() << "\n";
    return kExitFailure;
  }
  Result<bool> written = WriteTombstone(*tombstone, request->tombstone_path);
  if (!written) {
    std::cerr << "jitscope crash-dump: " << written.error() << "\n";
    return kExitFailure;
  }
  // Both from the signal (CLOCK_MONOTONIC, as the handler's stamp): when
  // everything was captured, and now that the file is in place.
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  uint64_t now_ns = static_cast<uint64_t>(now.tv_sec) * 1000000000u + static_cast<uint64_t>(now.tv_nsec);
  auto since_signal = [&](uint64_t ns) {
    return ns > tombstone->signal_time_ns && tombstone->signal_time_ns ? (ns - tombstone->signal_time_ns) / 1e6 : 0.0;
  };
  std::cerr << "jitscope crash-dump: process " << request->pid << " (" << tombstone->comm << ") crashed with "
            << SignalName(request->signal) << "; wrote tombstone " << request->tombstone_path << " (captured "
            << since_signal(tombstone->dump_time_ns) << " ms, written " << since_signal(now_ns)
            << " ms after the signal)\n";
  if (status_fd >= 0) {
    char ok = 'k';
    while (write(status_fd, &ok, 1) < 0 && errno == EINTR) {
    }
  }
  return kExitOk;
}

const Command kCrashDumpCommand{
    .name = "crash-dump",
    .summary = "(internal) Write a tombstone for a crashing process; started by its signal handler",
    .usage = kUsage,
    .options = {{.name = "status-fd", .takes_value = true}},
    .min_positionals = 0,
    .max_positionals = 0,
    .run = Run,
};
JITSCOPE_REGISTER_COMMAND(kCrashDumpCommand);

}  // namespace
}  // namespace jitscope::cli
