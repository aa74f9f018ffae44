// Facts about live processes from /proc.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace jitscope {

// Every numeric entry of /proc, ascending.
std::vector<pid_t> ListProcesses();

// /proc/PID/comm without the newline; empty if unreadable (exited, denied).
std::string ReadProcessComm(pid_t pid);

bool ProcessExists(pid_t pid);

// The process has exited: it no longer exists, or it is a zombie (or dead)
// waiting for its parent, whose memory can no longer be read.
bool ProcessExited(pid_t pid);

}  // namespace jitscope
