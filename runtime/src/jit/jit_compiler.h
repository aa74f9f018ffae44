// Baseline compiler: one Lua 5.1 prototype to x86-64 machine code with asmjit.
// Runs on the compiler thread; reads only immutable parts of the Proto.
#pragma once

#include <asmjit/x86.h>

#include <string>
#include <vector>

#include "debuginfo/code_event.h"
#include "value.h"

namespace jitvm {
namespace jit {

struct CompileOutput {
  asmjit::CodeHolder code;
  std::vector<asmjit::Label> pc_labels;  // one per bytecode pc
  // Per bytecode pc: where on-stack replacement enters there (an invalid
  // label: not there; see the compiler's pinned loops).
  std::vector<asmjit::Label> osr_labels;
  jitscope::FrameDescription frame;      // rows keyed by code offsets
  std::vector<jitscope::LineEntry> lines;
  asmjit::Label entry;
  asmjit::Label body_entry;  // past the prologue (JitCallHeader::body_entry)
};

// Returns false with *error set when the prototype cannot be compiled.
// `index_name` is the VM's interned "__index" string (used by the inline
// metatable chain lookup of method calls and field reads); `mt_string_slot`
// is where the VM keeps the strings' metatable (read at run time, so method
// calls on strings find string.* inline).
bool compile_proto(const Proto* p, bool frame_pointers, String* index_name, Table* const* mt_string_slot,
                   CompileOutput* out, std::string* error);

}  // namespace jit
}  // namespace jitvm
