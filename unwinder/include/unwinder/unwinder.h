// Remote stack unwinding of x86-64 processes whose JIT registers its code
// through the GDB JIT interface. libunwind does the DWARF work; we give it
// our own accessors: memory comes from a `Memory` (process_vm_readv for a
// live thread, captured regions offline; never ptrace PEEK), registers from
// `Registers`, and unwind tables from two places:
//   - JIT code: the CFI of the snapshot's symbol files (.debug_frame of ours,
//     packed or inside .gnu_debugdata; .eh_frame of LLVM objects), converted
//     to .eh_frame form with a binary-search table and served to libunwind
//     from local buffers at a synthetic address range;
//   - native modules: their ELF .eh_frame_hdr/.eh_frame at the load bias,
//     opened from the maps' path (or UnwindOptions::files offline).
// When CFI is missing or a step fails, a bounded frame-pointer walk takes
// over. The input is hostile (garbage registers, cyclic or truncated stacks):
// every loop is bounded, sp must increase, frames are capped.
#pragma once

#include <sys/types.h>
#include <sys/user.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "debuginfo/jit_snapshot.h"
#include "debuginfo/memory.h"
#include "debuginfo/process_maps.h"
#include "debuginfo/result.h"

namespace jitscope {

// x86-64 general-purpose registers, laid out exactly as struct user_regs_struct
// so that PTRACE_GETREGS and crash contexts copy straight in.
struct Registers {
  uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8, rax, rcx, rdx, rsi, rdi, orig_rax, rip, cs, eflags,
      rsp, ss, fs_base, gs_base, ds, es, fs, gs;
};
static_assert(sizeof(Registers) == sizeof(user_regs_struct));
static_assert(offsetof(Registers, rip) == offsetof(user_regs_struct, rip));
static_assert(offsetof(Registers, rsp) == offsetof(user_regs_struct, rsp));
static_assert(offsetof(Registers, rbp) == offsetof(user_regs_struct, rbp));
static_assert(offsetof(Registers, gs) == offsetof(user_regs_struct, gs));

struct UnwoundFrame {
  uint64_t pc = 0;            // frame 0: the register pc; others: the return address
  uint64_t sp = 0;            // the frame's stack pointer
  bool signal_frame = false;  // this frame is a kernel signal frame (sigreturn trampoline)
  enum class Method { kRegisters, kNativeCfi, kJitCfi, kFramePointer } method = Method::kRegisters;  // how this frame was found
};
const char* UnwindMethodName(UnwoundFrame::Method method);  // "registers", "native-cfi", "jit-cfi", "frame-pointer"

// Offline users point the unwinder at copies of the native ELF files.
class ModuleFileResolver {
 public:
  virtual ~ModuleFileResolver() = default;
  virtual std::string PathFor(const MapEntry& map) = 0;  // "" = unavailable
};

struct UnwindOptions {
  size_t max_frames = 256;
  ModuleFileResolver* files = nullptr;
  // Live targets: the pid whose /proc/PID/map_files and /proc/PID/root give
  // the mapped files when their paths do not open from here (0: paths as is).
  pid_t pid = 0;
};

// Why an unwind ended, for users who must tell a complete stack from one cut
// short (gdb's "Backtrace stopped").
struct UnwindResult {
  std::vector<UnwoundFrame> frames;
  bool complete = false;    // the CFI marked the outermost frame (_start, the thread start)
  std::string stop_reason;  // "outermost frame", "frame limit", or why the next frame was not found
};
UnwindResult UnwindStackDetailed(Memory& memory, const std::vector<MapEntry>& maps, const JitSnapshot& jit,
                                 const Registers& regs, const UnwindOptions& options = {});

// Unwinds many stacks of one target (every thread of a process, every sample
// of a profile) reusing what the first unwind built: the JIT CFI index, the
// converted FDEs and the opened native modules. memory, maps and jit must
// outlive it. Not thread-safe.
class StackUnwinder {
 public:
  StackUnwinder(Memory& memory, const std::vector<MapEntry>& maps, const JitSnapshot& jit,
                const UnwindOptions& options = {});
  ~StackUnwinder();
  StackUnwinder(const StackUnwinder&) = delete;
  StackUnwinder& operator=(const StackUnwinder&) = delete;

  UnwindResult Unwind(const Registers& regs);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// memory: the target's address space (RemoteMemory of a ptrace-stopped live thread, or an offline
// capture: BufferMemory/SnapshotMemory regions). maps: its /proc/PID/maps. jit: its JIT debug info.
// An error only for unusable input (no frames at all); a stack that ends early is a success with
// the frames found.
Result<std::vector<UnwoundFrame>> UnwindStack(Memory& memory, const std::vector<MapEntry>& maps,
                                              const JitSnapshot& jit, const Registers& regs,
                                              const UnwindOptions& options = {});

// Live: PTRACE_SEIZE + PTRACE_INTERRUPT every thread (or just `tid`), PTRACE_GETREGS, unwind each, detach
// leaving the process running.
struct ThreadStack {
  pid_t tid = 0;
  std::string name;
  Registers regs{};
  std::vector<UnwoundFrame> frames;
  std::string error;  // this thread could not be stopped or read; frames may be empty
  bool complete = false;    // as UnwindResult
  std::string stop_reason;  // as UnwindResult
};
// All-stop, like a debugger: every thread is stopped before the first is
// unwound and all are detached at the end, so the stacks are one moment of
// the process. Errors: the process does not exist, cannot be traced (with
// advice), or only_tid is not one of its threads.
Result<std::vector<ThreadStack>> UnwindLiveProcess(pid_t pid, const std::vector<MapEntry>& maps, const JitSnapshot& jit,
                                                   std::optional<pid_t> only_tid = std::nullopt,
                                                   const UnwindOptions& options = {});
// The same, with the JIT snapshot taken once the threads are stopped: code
// compiled or freed between an earlier snapshot and the stop would otherwise
// be missing or stale (a JitSnapshotter's Poll costs one header read when
// nothing changed). `snapshot_after_stop` runs once, with every thread stopped.
Result<std::vector<ThreadStack>> UnwindLiveProcess(pid_t pid, const std::vector<MapEntry>& maps,
                                                   const std::function<const JitSnapshot&()>& snapshot_after_stop,
                                                   std::optional<pid_t> only_tid = std::nullopt,
                                                   const UnwindOptions& options = {});

}  // namespace jitscope
