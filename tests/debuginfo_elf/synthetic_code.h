// Builds CodeInfos the way a JIT does: instruction by instruction, recording a
// FrameRow after every instruction that changes the frame (x86-64 encodings'
// sizes, so offsets look like real code).
#pragma once

#include <cstdint>
#include <string>

#include "debuginfo/code_event.h"

namespace jitscope::testing {

class SyntheticCode {
 public:
  SyntheticCode(std::string name, uint64_t address, std::string source = "fib.lua", uint32_t first_line = 3) {
    code_.name = std::move(name);
    code_.address = address;
    code_.source = std::move(source);
    code_.first_line = first_line;
    Row();
  }

  void Push(int reg) {
    offset_ += reg >= kDwR8 ? 2 : 1;
    depth_ += 8;
    if (state_.cfa_reg == kDwRsp) state_.cfa_offset += 8;
    state_.saved_offset[reg] = static_cast<int16_t>(-(8 + depth_));
    Row();
  }
  void Pop(int reg) {
    offset_ += reg >= kDwR8 ? 2 : 1;
    depth_ -= 8;
    if (state_.cfa_reg == kDwRsp) state_.cfa_offset -= 8;
    state_.saved_offset[reg] = 0;
    if (reg == kDwRbp && state_.cfa_reg == kDwRbp) {  // the frame pointer's own pop
      state_.cfa_reg = kDwRsp;
      state_.cfa_offset = 8 + depth_;
    }
    Row();
  }
  // mov rbp, rsp
  void SetFramePointer() {
    offset_ += 3;
    state_.cfa_reg = kDwRbp;
    state_.cfa_offset = 8 + depth_;
    Row();
  }
  void SubRsp(int bytes) {
    offset_ += bytes < 128 ? 4 : 7;
    depth_ += bytes;
    if (state_.cfa_reg == kDwRsp) state_.cfa_offset += bytes;
    Row();
  }
  void AddRsp(int bytes) {
    offset_ += bytes < 128 ? 4 : 7;
    depth_ -= bytes;
    if (state_.cfa_reg == kDwRsp) state_.cfa_offset -= bytes;
    Row();
  }
  // Body instructions that do not touch the frame, attributed to `line`.
  void Body(uint32_t bytes, uint32_t line) {
    code_.lines.push_back({offset_, line, static_cast<uint32_t>(code_.lines.size())});
    offset_ += bytes;
  }
  void MarkBody() {
    body_state_ = state_;
    body_depth_ = depth_;
  }
  void Ret() { offset_ += 1; }
  // Code after a return continues with the body's frame.
  void RestoreBody() {
    state_ = body_state_;
    depth_ = body_depth_;
    Row();
  }

  CodeInfo Finish() {
    code_.size = offset_;
    code_.frame.uses_frame_pointer = uses_frame_pointer_;
    return code_;
  }

  // The prologue and epilogue of jitvm's baseline tier.
  void Prologue(bool frame_pointer, int locals = 8) {
    uses_frame_pointer_ = frame_pointer;
    Push(kDwRbp);
    if (frame_pointer) SetFramePointer();
    for (int reg : {kDwRbx, kDwR12, kDwR13, kDwR14, kDwR15}) Push(reg);
    SubRsp(locals);
    MarkBody();
  }
  void Epilogue(int locals = 8) {
    AddRsp(locals);
    for (int reg : {kDwR15, kDwR14, kDwR13, kDwR12, kDwRbx}) Pop(reg);
    Pop(kDwRbp);
    Ret();
  }

 private:
  void Row() {
    FrameRow row = state_;
    row.code_offset = offset_;
    auto& rows = code_.frame.rows;
    if (!rows.empty() && rows.back().code_offset == offset_)
      rows.back() = row;
    else if (rows.empty() || !rows.back().SameStateAs(row))
      rows.push_back(row);
  }

  CodeInfo code_;
  FrameRow state_;
  FrameRow body_state_;
  int depth_ = 0;
  int body_depth_ = 0;
  uint32_t offset_ = 0;
  bool uses_frame_pointer_ = false;
};

// A function with two returns and code after each, as the baseline JIT emits.
inline CodeInfo MakeFunction(const std::string& name, uint64_t address, bool frame_pointer,
                             uint32_t first_line = 3, const std::string& source = "fib.lua") {
  SyntheticCode c(name, address, source, first_line);
  c.Prologue(frame_pointer);
  c.Body(23, first_line + 1);
  c.Body(17, first_line + 2);
  c.Epilogue();
  c.RestoreBody();
  c.Body(31, first_line + 3);
  c.Body(9, first_line + 1);
  c.Epilogue();
  c.RestoreBody();
  c.Body(12, first_line + 4);
  return c.Finish();
}

}  // namespace jitscope::testing
