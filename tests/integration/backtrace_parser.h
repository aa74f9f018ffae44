// Reads the backtraces that gdb (`bt`) and lldb (`bt`) print into frames,
// so tests compare function names and source lines rather than text.
#pragma once

#include <string>
#include <vector>

namespace jitscope::integration {

struct DebuggerFrame {
  int index = -1;
  std::string function;  // as printed, without arguments: "fib@fib.lua:7", "jitvm::vm_call"
  std::string file;      // from "at FILE:LINE" when the debugger has line info; else empty
  int line = 0;
  std::string text;      // the whole line, for messages
};

// gdb: "#6  0x00007fffa400041e in fib@fib.lua:7 ()" and "#0  fib () at fib.lua:8".
// When `output` holds several backtraces (or a stop location printed as
// frame #0 before one), the last one wins: every "#0" starts afresh. Print
// it with `set width 0` so lines do not wrap.
std::vector<DebuggerFrame> ParseGdbBacktrace(const std::string& output);

// `thread apply all bt`: one backtrace per "Thread N (...)" block.
std::vector<std::vector<DebuggerFrame>> ParseGdbThreadBacktraces(const std::string& output);

// lldb: "frame #5: 0x00007fffa400041e JIT(0x7fffb68ef290)`fib@fib.lua:7 + 542"
// and "frame #2: 0x0000555555586680 jitvm`f(int) at lib_vmtest.cc:67:8".
// lldb prints frame #0 when a process stops: the last backtrace wins.
std::vector<DebuggerFrame> ParseLldbBacktrace(const std::string& output);

// Functions of the frames that are JIT code by their name's shape
// ("NAME@CHUNK:LINE"), innermost first.
std::vector<std::string> JitFrameNames(const std::vector<DebuggerFrame>& frames);

// Empty if the backtrace unwinds through compiled code completely: every
// run of compiled frames (JIT names, or line info in a .lua file) was
// entered from jitvm's jit_run, and the outer frames reach vm_call, the
// VM's main and the thread's first frame. Otherwise says what is wrong.
std::string IncompleteUnwindReason(const std::vector<DebuggerFrame>& frames);

// All frames, one per line, for assertion messages.
std::string FormatFrames(const std::vector<DebuggerFrame>& frames);

}  // namespace jitscope::integration
