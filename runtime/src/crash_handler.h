// jitvm's crash handler: on a fatal signal, start `jitscope crash-dump` (like
// Android's crash_dump) to write a tombstone from outside the process, then
// die with the original signal. If the dumper cannot run, write a minimal
// tombstone from inside the handler. Format and protocol: docs/tombstones.md.
//
// Everything the handler needs (paths, the alternate stacks) is prepared at
// install time, because the handler itself may only use async-signal-safe
// system calls: the crash may have happened inside malloc or with a lock held.
#pragma once

namespace jitvm {

// Signals handled: SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS.
// Resolves the dumper ($JITSCOPE_CRASH_DUMP, else `jitscope` next to
// /proc/self/exe) and the tombstone directory ($JITSCOPE_TOMBSTONE_DIR, else
// ./tombstones, made absolute now so a later chdir does not move it) and how
// long to wait for the dumper ($JITSCOPE_CRASH_DUMP_TIMEOUT_MS, default 20 s).
// Also installs the calling thread's alternate signal stack. Call once, early.
void InstallCrashHandler();

// Gives the calling thread an alternate signal stack so that a stack
// overflow can still be handled (a new thread has none: the kernel clears it
// on clone). Every thread the VM creates calls this first; the stack is
// released when the thread exits. Cheap and idempotent.
void InstallCrashAltStack();

// Whether InstallCrashHandler ran (vmtest uses it to set up its threads).
bool CrashHandlerInstalled();

}  // namespace jitvm
