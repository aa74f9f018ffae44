#include "jit_compiler.h"

#include <algorithm>
#include <bitset>
#include <cmath>
#include <cstddef>
#include <functional>
#include <memory>

#include "jit.h"
#include "jit_helpers.h"
#include "opcodes.h"
#include "state.h"
#include "table.h"

namespace jitvm {
namespace jit {

using namespace asmjit;
using namespace asmjit::x86;

namespace {

// Fixed register assignment for the whole function (all callee-saved, so they
// survive helper calls): rbx = base, r12 = L, r13 = constants, r14 = closure,
// r15 = CallInfo. rbp is the frame pointer, or a scratch register without one.
const Gp kBase = rbx;
const Gp kL = r12;
const Gp kK = r13;
const Gp kCl = r14;
const Gp kCi = r15;

constexpr int kValueSize = sizeof(Value);

// Proto is not standard-layout (it holds vectors), so offsetof does not apply;
// the member's offset is measured once on a real object instead.
int32_t ProtoJitCodeOffset() {
  static const int32_t off = [] {
    auto* probe = new Proto();
    auto d = reinterpret_cast<const char*>(&probe->jit_code) - reinterpret_cast<const char*>(probe);
    delete probe;
    return static_cast<int32_t>(d);
  }();
  return off;
}
constexpr int kTagOff = offsetof(Value, tt);

class Compiler {
 public:
  Compiler(const Proto* p, bool fp, String* index_name, Table* const* mt_string_slot, CompileOutput* out)
      : p_(p), fp_(fp), index_name_(index_name), mt_string_slot_(mt_string_slot), out_(out) {}

  bool Run(std::string* error) {
    Environment env = Environment::host();
    out_->code.init(env);
    a_ = std::make_unique<Assembler>(&out_->code);
    Assembler& a = *a_;
    int n = static_cast<int>(p_->code.size());
    out_->pc_labels.resize(static_cast<size_t>(n) + 1);
    for (int i = 0; i <= n; i++) out_->pc_labels[static_cast<size_t>(i)] = a.newLabel();
    out_->osr_labels = out_->pc_labels;
    FindJumpTargets();
    ComputeNumberSlots();
    FindPinnedLoops();
    ret_epilogue_ = a.newLabel();
    for_body_fast_.resize(for_body_index_.size());
    for (size_t t = 0; t < for_body_index_.size(); t++)
      if (for_body_index_[t] >= 0) for_body_fast_[t] = a.newLabel();
    out_->entry = a.newLabel();
    out_->body_entry = a.newLabel();
    a.bind(out_->entry);
    EmitPrologue();
    a.bind(out_->body_entry);
    // Register setup: L, ci, base, closure, constants.
    a.mov(kL, rdi);
    a.mov(kCi, rsi);
    a.mov(kBase, qword_ptr(kCi, offsetof(CallInfo, base)));
    a.mov(kCl, qword_ptr(kCi, offsetof(CallInfo, func)));
    a.mov(kCl, qword_ptr(kCl, offsetof(Value, gc)));
    a.mov(kK, imm(reinterpret_cast<uint64_t>(p_->k.data())));
    Label start = a.newLabel();
    a.test(rdx, rdx);
    a.jz(start);
    a.jmp(rdx);  // on-stack replacement: continue at a bytecode boundary
    a.bind(start);
    EmitFrameNilFill();
    for (int pc = 0; pc < n; pc++) {
      a.bind(out_->pc_labels[static_cast<size_t>(pc)]);
      if (IsJumpTarget(pc)) xmm0_slot_ = xmm3_slot_ = -1;  // control merges here
      if (int idx = for_body_index_[static_cast<size_t>(pc)]; idx >= 0) {
        // A numeric for loop's body: it starts with the loop variable in
        // xmm3. Its FORLOOP jumps past this load with the new value already
        // there; every other entry (OSR, other jumps) loads it. The load
        // belongs to the previous bytecode's line entry, so that a
        // breakpoint on the body's first line is at the FORLOOP's target.
        a.movsd(xmm3, Slot(idx));
        a.bind(for_body_fast_[static_cast<size_t>(pc)]);
        xmm3_slot_ = idx;
      }
      if (int l = LoopAt(pc); l >= 0 && pin_loops_[static_cast<size_t>(l)].is_while &&
                              pin_loops_[static_cast<size_t>(l)].body == pc) {
        // A while/repeat loop's header: every entry from outside loads the
        // pins (as with the for body's load, on the previous line's entry).
        LoadPins(l);
        a.bind(pin_loops_[static_cast<size_t>(l)].inner);
        // The back edge lands here with whatever xmm0/xmm3 held at its jump
        // (a for body's xmm3 load above does not cover it).
        xmm0_slot_ = xmm3_slot_ = -1;
      }
      AddLine(pc);
      int skip = 0;
      if (!EmitInstruction(pc, &skip, error)) return false;
      for (int s = 0; s < skip; s++) {
        // Pseudo-instructions (CLOSURE upvalue moves, SETLIST counts) are data: never a jump target.
        pc++;
        a.bind(out_->pc_labels[static_cast<size_t>(pc)]);
      }
    }
    a.bind(out_->pc_labels[static_cast<size_t>(n)]);
    a.ud2();  // falling off the end is impossible (the compiler always emits RETURN)
    EmitColdCode();
    EmitOsrStubs();
    EmitSharedEpilogues(n);
    a.ud2();
    if (a_->finalize() != kErrorOk) {
      *error = "assembler finalize failed";
      return false;
    }
    return true;
  }

 private:
  // ---- frame description ----------------------------------------------------------
  void Row() {
    jitscope::FrameRow r = state_;
    r.code_offset = static_cast<uint32_t>(a_->offset());
    auto& rows = out_->frame.rows;
    if (!rows.empty() && rows.back().code_offset == r.code_offset) {
      rows.back() = r;
    } else if (rows.empty() || !rows.back().SameStateAs(r)) {
      rows.push_back(r);
    }
  }
  void Push(const Gp& reg, int dw) {
    a_->push(reg);
    sp_depth_ += 8;
    if (state_.cfa_reg == jitscope::kDwRsp) state_.cfa_offset += 8;
    state_.saved_offset[dw] = static_cast<int16_t>(-(8 + sp_depth_));
    Row();
  }
  void Pop(const Gp& reg, int dw) {
    a_->pop(reg);
    sp_depth_ -= 8;
    if (state_.cfa_reg == jitscope::kDwRsp) state_.cfa_offset -= 8;
    state_.saved_offset[dw] = 0;
    Row();
  }
  void EmitPrologue() {
    Assembler& a = *a_;
    state_ = jitscope::FrameRow();
    sp_depth_ = 0;
    Row();
    Push(rbp, jitscope::kDwRbp);
    if (fp_) {
      a.mov(rbp, rsp);
      state_.cfa_reg = jitscope::kDwRbp;
      state_.cfa_offset = 16;
      Row();
    }
    Push(rbx, jitscope::kDwRbx);
    Push(r12, jitscope::kDwR12);
    Push(r13, jitscope::kDwR13);
    Push(r14, jitscope::kDwR14);
    Push(r15, jitscope::kDwR15);
    // 6 pushes + return address = 56 bytes: one more slot keeps rsp 16-aligned at calls.
    a.sub(rsp, 8);
    sp_depth_ += 8;
    if (!fp_) state_.cfa_offset += 8;
    Row();
    body_state_ = state_;
    out_->frame.uses_frame_pointer = fp_;
  }
  void EmitEpilogue() {
    Assembler& a = *a_;
    a.add(rsp, 8);
    sp_depth_ -= 8;
    if (!fp_) state_.cfa_offset -= 8;
    Row();
    Pop(r15, jitscope::kDwR15);
    Pop(r14, jitscope::kDwR14);
    Pop(r13, jitscope::kDwR13);
    Pop(r12, jitscope::kDwR12);
    Pop(rbx, jitscope::kDwRbx);
    if (fp_) {
      a.pop(rbp);
      sp_depth_ -= 8;
      state_.cfa_reg = jitscope::kDwRsp;
      state_.cfa_offset = 8;
      state_.saved_offset[jitscope::kDwRbp] = 0;
      Row();
    } else {
      Pop(rbp, jitscope::kDwRbp);
    }
  }
  // One epilogue for every return (eax = the return value), after the slow
  // paths: each inline epilogue cost ~25 bytes of code and ~20 bytes of CFI,
  // and returns have a fast and a slow path each. Tail calls have none: they
  // continue in the callee's body in this frame (JitCallHeader::body_entry).
  void EmitSharedEpilogues(int n) {
    Assembler& a = *a_;
    if (!need_ret_epilogue_) return;
    AddLine(n > 0 ? n - 1 : 0);  // the function's last line (its final RETURN)
    a.bind(ret_epilogue_);
    EmitEpilogue();
    a.ret();
    RestoreBodyState();
  }
  // FORLOOP's back jump, with the new loop variable (in xmm0) in xmm3.
  void JumpToForBody(int body) {
    a_->movapd(xmm3, xmm0);
    a_->jmp(for_body_fast_[static_cast<size_t>(body)]);
  }
  void JumpToReturnEpilogue() {
    need_ret_epilogue_ = true;
    a_->jmp(ret_epilogue_);
  }

  // After a return or tail jump, code continues with the body's frame.
  void RestoreBodyState() {
    state_ = body_state_;
    sp_depth_ = fp_ ? 48 : 56;
    Row();
  }

  // Copies a 16-byte Value as its 8-byte payload and its tag byte, never as
  // one 16-byte load: the slot was often just written as payload + tag by
  // two stores, and a load spanning both cannot be store-forwarded (a ~12
  // cycle stall per copy on this AMD EPYC, and on Intel cores alike). The
  // destination's 7 padding bytes are left as they were.
  void CopyValue(const Mem& dst, const Mem& src) {
    Assembler& a = *a_;
    Mem sv = src, st = src, dv = dst, dt = dst;
    sv.setSize(8);
    st.setSize(1);
    st.addOffset(kTagOff);
    dv.setSize(8);
    dt.setSize(1);
    dt.addOffset(kTagOff);
    a.mov(r11, sv);  // clobbers r11 and rcx (never an address register here)
    a.movzx(ecx, st);
    a.mov(dv, r11);
    a.mov(dt, cl);
  }

  // CopyValue from RK(x) (as an xmmword Mem `src`), for a source the
  // number-slot analysis proved a number at the current bytecode: the tag is
  // stored as a constant, so the store does not wait for a load of the tag
  // just written. Clobbers r11 (and rcx otherwise), as CopyValue.
  // tag_there: dst's tag is kTNumber already (only the payload is stored).
  void CopyRK(const Mem& dst, int x, const Mem& src, bool tag_there = false) {
    if (!KnownNum(pc_, x)) {
      CopyValue(dst, src);
      return;
    }
    Mem sv = src, dv = dst, dt = dst;
    sv.setSize(8);
    dv.setSize(8);
    dt.setSize(1);
    dt.addOffset(kTagOff);
    a_->mov(r11, sv);
    a_->mov(dv, r11);
    if (!tag_there) a_->mov(dt, kTNumber);
  }

  // Slow paths go out of line, after the whole function body (in the body's
  // frame state: they hold no push, pop or epilogue), so the hot paths of
  // consecutive bytecodes stay dense in the instruction cache. Each chunk
  // gets its bytecode's line entry.
  void Cold(int pc, std::function<void()> emit) { cold_.push_back({pc, std::move(emit)}); }
  void EmitColdCode() {
    // By index, each entry moved out first: a cold block may add more (the
    // string probes' collision paths).
    for (size_t k = 0; k < cold_.size(); k++) {
      auto c = std::move(cold_[k]);
      AddLine(c.first);
      pc_ = c.first;  // slow paths belong to their bytecode (CallHelper reloads its loop's pins)
      c.second();
    }
    cold_.clear();
  }
  void AddLine(int pc) {
    out_->lines.push_back({static_cast<uint32_t>(a_->offset()),
                           static_cast<uint32_t>(static_cast<size_t>(pc) < p_->lineinfo.size() ? p_->lineinfo[pc] : 0),
                           static_cast<uint32_t>(pc)});
  }

  // ---- operands -----------------------------------------------------------------------
  Mem Slot(int r, int off = 0) const { return qword_ptr(kBase, r * kValueSize + off); }
  Mem Tag(int r) const { return byte_ptr(kBase, r * kValueSize + kTagOff); }
  Mem SlotX(int r) const { return xmmword_ptr(kBase, r * kValueSize); }
  bool IsK(int x) const { return ISK(x); }
  const Value& KVal(int x) const { return p_->k[static_cast<size_t>(INDEXK(x))]; }
  Mem RK(int x) const {
    return ISK(x) ? qword_ptr(kK, INDEXK(x) * kValueSize) : qword_ptr(kBase, x * kValueSize);
  }
  Mem RKX(int x) const {
    return ISK(x) ? xmmword_ptr(kK, INDEXK(x) * kValueSize) : xmmword_ptr(kBase, x * kValueSize);
  }
  Mem RKTag(int x) const {
    return ISK(x) ? byte_ptr(kK, INDEXK(x) * kValueSize + kTagOff) : byte_ptr(kBase, x * kValueSize + kTagOff);
  }
  // lea of an RK operand's address into `dst`.
  void LeaRK(const Gp& dst, int x) {
    if (ISK(x))
      a_->lea(dst, ptr(kK, INDEXK(x) * kValueSize));
    else
      a_->lea(dst, ptr(kBase, x * kValueSize));
  }
  void LeaSlot(const Gp& dst, int r) { a_->lea(dst, ptr(kBase, r * kValueSize)); }

  void SavePc(int pc) {
    a_->mov(rax, imm(reinterpret_cast<uint64_t>(p_->code.data() + pc + 1)));
    a_->mov(qword_ptr(kCi, offsetof(CallInfo, savedpc)), rax);
  }
  template <typename Fn>
  void CallHelper(Fn fn) {
    a_->mov(rax, imm(reinterpret_cast<uint64_t>(fn)));
    a_->call(rax);
    // The call clobbered every xmm register (and may have written any slot).
    if (int l = LoopAt(pc_); l >= 0) LoadPins(l);
  }
  Mem RKd(int x) const {
    return ISK(x) ? dword_ptr(kK, INDEXK(x) * kValueSize) : dword_ptr(kBase, x * kValueSize);
  }
  void SetTopToCiTop() {
    a_->mov(rax, qword_ptr(kCi, offsetof(CallInfo, top)));
    a_->mov(qword_ptr(kL, offsetof(State, top)), rax);
  }
  Label& PcLabel(int pc) { return out_->pc_labels[static_cast<size_t>(pc)]; }

  // Jumps to `target` when the value at `reg` is nil or false (truthy ==
  // false), or when it is neither (truthy == true); falls through otherwise.
  void BranchOnTruth(int reg, bool truthy, const Label& target) {
    Assembler& a = *a_;
    Label other = a.newLabel();
    a.movzx(eax, Tag(reg));
    a.cmp(eax, kTNil);
    a.je(truthy ? other : target);
    a.cmp(eax, kTBoolean);
    a.jne(truthy ? target : other);
    a.cmp(dword_ptr(kBase, reg * kValueSize), 0);
    if (truthy) a.jne(target);
    else a.je(target);
    a.bind(other);
  }
  void BranchIfFalsy(int reg, const Label& falsy) { BranchOnTruth(reg, false, falsy); }
  void BranchIfTruthy(int reg, const Label& truthy) { BranchOnTruth(reg, true, truthy); }

  // A test (EQ, LT, LE, TEST) and the JMP after it are one branch. When no
  // other jump lands on that JMP, its code is not emitted (EmitInstruction's
  // skip), so the test's "skip the JMP" case falls through into pc + 2
  // instead of jumping there.
  bool FuseTestJump(int pc) const {
    return pc + 1 < static_cast<int>(p_->code.size()) && !IsJumpTarget(pc + 1);
  }

  // Hash lookup of a string key in the table at `tab` (not rcx, rdx, r10):
  // the constant `key`, or (key == nullptr) the string in register
  // `reg`, whose tag the caller checked. Walks the whole linear-probing chain
  // as table_get_str does (a table always keeps an empty slot, so the walk
  // ends). On a hit with a non-nil value, falls through with the value's
  // address in rdx; jumps to `absent` when the key is absent or its value nil.
  // Clobbers rcx, rdx, r10.
  void ProbeStr(const Gp& tab, String* key, int reg, const Label& absent) {
    Assembler& a = *a_;
    Label loop = a.newLabel(), other = a.newLabel(), next = a.newLabel();
    a.mov(rdx, qword_ptr(tab, offsetof(Table, node)));
    a.test(rdx, rdx);
    a.jz(absent);
    if (key) {
      a.mov(ecx, dword_ptr(tab, offsetof(Table, hmask)));
      a.and_(ecx, imm(key->hash));
      a.mov(r10, imm(reinterpret_cast<uint64_t>(key)));
    } else {
      a.mov(r10, Slot(reg));
      a.mov(ecx, dword_ptr(r10, offsetof(String, hash)));
      a.and_(ecx, dword_ptr(tab, offsetof(Table, hmask)));
    }
    // rcx is the node's byte offset from here: one addressing mode per
    // access, no separate address computation on the first (usual) probe.
    static_assert(sizeof(Node) == 32, "node stride");
    a.shl(rcx, 5);
    a.bind(loop);
    a.cmp(qword_ptr(rdx, rcx, 0, offsetof(Node, key)), r10);
    a.jne(other);
    a.cmp(byte_ptr(rdx, rcx, 0, offsetof(Node, key) + kTagOff), kTString);
    a.jne(next);
    a.lea(rdx, ptr(rdx, rcx, 0, offsetof(Node, val)));
    a.cmp(byte_ptr(rdx, kTagOff), kTNil);
    a.je(absent);
    // A hit falls through. Collisions continue out of line: the first
    // probe of a string key usually decides.
    Gp t = tab;
    Cold(pc_, [=, this] {
      Assembler& c = *a_;
      c.bind(other);
      c.cmp(byte_ptr(rdx, rcx, 0, offsetof(Node, key) + kTagOff), kTNil);
      c.je(absent);
      c.bind(next);
      c.shr(rcx, 5);
      c.inc(ecx);
      c.and_(ecx, dword_ptr(t, offsetof(Table, hmask)));
      c.shl(rcx, 5);
      c.jmp(loop);
    });
  }
  void ProbeString(const Gp& tab, String* key, const Label& miss) { ProbeStr(tab, key, -1, miss); }
  void ProbeStringReg(const Gp& tab, int reg, const Label& miss) { ProbeStr(tab, nullptr, reg, miss); }

  // After constant string `key` was found absent (or nil) in the table at
  // r8: follows the __index chain through tables, as vm_gettable does, up to
  // kChainDepth levels. Ends with the value's address in rdx (a non-nil hit),
  // or jumps to `nil_result` (a table on the chain has no metatable or no
  // __index: the result is nil), or to `slow` (an __index function, a depth
  // beyond the limit). Enter at `have_mt` with the metatable in r9 instead
  // (method calls on strings). Clobbers rsi, r8, r9 and the probe's registers.
  void ProbeIndexChain(String* key, const Label& slow, const Label& nil_result, const Label* have_mt = nullptr) {
    Assembler& a = *a_;
    constexpr int kChainDepth = 8;
    Label level = a.newLabel(), found = a.newLabel(), absent = a.newLabel();
    a.mov(esi, kChainDepth);  // SELF's string path sets the same depth before jumping to have_mt
    a.bind(level);
    a.mov(r9, qword_ptr(r8, offsetof(Table, metatable)));
    a.test(r9, r9);
    a.jz(nil_result);
    if (have_mt) a.bind(*have_mt);
    ProbeString(r9, index_name_, nil_result);
    a.cmp(byte_ptr(rdx, kTagOff), kTTable);
    a.jne(slow);
    a.mov(r8, qword_ptr(rdx, offsetof(Value, gc)));
    ProbeString(r8, key, absent);
    a.jmp(found);
    a.bind(absent);
    a.dec(esi);
    a.jnz(level);
    a.jmp(slow);
    a.bind(found);
  }

  // Array-part address of integer key at RK(x) in table `tab` into rdx, or jump to miss.
  // key_reg: the register holding R(x)'s payload (the register cache), if any.
  // tag_checked: R(x) is known to be a number here (no tag test).
  void ArraySlot(const Gp& tab, int x, const Label& miss, const Xmm* key_reg = nullptr, bool tag_checked = false) {
    Assembler& a = *a_;
    if (ISK(x)) {
      const Value& kv = KVal(x);
      double d = kv.n;
      if (!kv.is_number() || !(d >= 1 && d <= 2147483647.0) || d != std::floor(d)) {
        a.jmp(miss);
        return;
      }
      int64_t idx = static_cast<int64_t>(d);
      a.cmp(dword_ptr(tab, offsetof(Table, asize)), static_cast<uint32_t>(idx));
      a.jb(miss);
      a.mov(rdx, qword_ptr(tab, offsetof(Table, array)));
      a.add(rdx, static_cast<int32_t>((idx - 1) * kValueSize));
      return;
    }
    if (!tag_checked && !KnownNum(pc_, x)) {
      a.cmp(Tag(x), kTNumber);
      a.jne(miss);
    }
    if (key_reg)
      a.movapd(xmm1, *key_reg);
    else
      a.movsd(xmm1, Slot(x));
    a.cvttsd2si(rcx, xmm1);
    if (!KnownIntegral(pc_, x)) {
      a.xorps(xmm2, xmm2);  // cvtsi2sd merges into the old register: break that dependency
      a.cvtsi2sd(xmm2, rcx);
      a.ucomisd(xmm1, xmm2);
      a.jne(miss);
      a.jp(miss);
    }
    a.dec(rcx);
    a.mov(edx, dword_ptr(tab, offsetof(Table, asize)));
    a.cmp(rcx, rdx);
    a.jae(miss);
    a.shl(rcx, 4);
    a.mov(rdx, qword_ptr(tab, offsetof(Table, array)));
    a.add(rdx, rcx);
  }

  // Array-part slot for storing under integer key RK(x) in the table at `tab`
  // (address in rdx): goes to `store` when the slot holds a value or the table
  // has no metatable (no __newindex can apply); otherwise to `slow`.
  void ArrayStoreSlot(const Gp& tab, int x, const Label& store, const Label& slow, const Xmm* key_reg = nullptr,
                      bool tag_checked = false) {
    Assembler& a = *a_;
    ArraySlot(tab, x, slow, key_reg, tag_checked);
    a.cmp(byte_ptr(rdx, kTagOff), kTNil);
    a.jne(store);
    a.cmp(qword_ptr(tab, offsetof(Table, metatable)), 0);
    a.jne(slow);
  }

  // OP_TAILCALL's fast path with B - 1 arguments (B small, or 0: up to L->top): a
  // compiled, fixed-arity callee replaces this frame in place, as
  // jit_h_tailcall's fast path does, and the code jumps into the callee's
  // body (JitCallHeader::body_entry) in this frame. Open upvalues in this
  // frame, or anything else, go to `slow` before any state is changed.
  void EmitInlineTailCall(int A, int B, const Label& slow) {
    Assembler& a = *a_;
    EmitCompiledCalleeCheck(A, slow);
    Label no_upvals = a.newLabel();
    a.mov(rax, qword_ptr(kL, offsetof(State, open_upval)));
    a.test(rax, rax);
    a.jz(no_upvals);
    a.cmp(qword_ptr(rax, offsetof(UpVal, v)), kBase);
    a.jae(slow);
    a.bind(no_upvals);
    a.mov(ecx, dword_ptr(r9, offsetof(JitCallHeader, maxstacksize)));
    a.shl(rcx, 4);
    LeaSlot(rax, A + 1 + kMinStackForNative);
    a.add(rax, rcx);  // checked at the callee's unmoved base: the moved one is lower
    a.cmp(rax, qword_ptr(kL, offsetof(State, stack_last)));
    a.jae(slow);
    // Move the function and its arguments down to this frame's function slot.
    a.mov(r8, qword_ptr(kCi, offsetof(CallInfo, func)));
    if (B != 0) {
      for (int k = 0; k < B; k++) CopyRK(xmmword_ptr(r8, k * kValueSize), A + k, SlotX(A + k));  // clobbers rcx
      a.lea(rdx, ptr(r8, B * kValueSize));  // end of the arguments
    } else {
      // Arguments up to L->top (after a multiple-result call): a copy loop.
      Label loop = a.newLabel(), copied = a.newLabel();
      LeaSlot(r10, A);
      a.mov(r11, qword_ptr(kL, offsetof(State, top)));
      a.mov(rdx, r8);
      a.bind(loop);
      a.cmp(r10, r11);
      a.jae(copied);
      a.mov(rax, qword_ptr(r10));
      a.mov(qword_ptr(rdx), rax);
      a.movzx(eax, byte_ptr(r10, kTagOff));
      a.mov(byte_ptr(rdx, kTagOff), al);
      a.add(r10, kValueSize);
      a.add(rdx, kValueSize);
      a.jmp(loop);
      a.bind(copied);
    }
    a.lea(rsi, ptr(r8, kValueSize));   // new base
    a.mov(ecx, dword_ptr(r9, offsetof(JitCallHeader, maxstacksize)));
    a.shl(rcx, 4);
    a.add(rcx, rsi);                   // new ci->top
    EmitArgumentsToFrame();
    a.mov(qword_ptr(kCi, offsetof(CallInfo, base)), rsi);
    a.mov(qword_ptr(kL, offsetof(State, base)), rsi);
    a.mov(qword_ptr(kCi, offsetof(CallInfo, top)), rcx);
    a.mov(qword_ptr(kL, offsetof(State, top)), rcx);
    a.mov(rax, qword_ptr(r9, offsetof(JitCallHeader, code)));
    a.mov(qword_ptr(kCi, offsetof(CallInfo, savedpc)), rax);
    a.inc(dword_ptr(kCi, offsetof(CallInfo, tailcalls)));
    a.mov(qword_ptr(kCi, offsetof(CallInfo, jit)), r9);
    a.mov(byte_ptr(kCi, offsetof(CallInfo, tier)), 1);
    EmitStackHwmAndCallCount();
    // Our frame is the one the callee's prologue would build (every compiled
    // function has the same prologue), so skip our epilogue and its prologue:
    // 16 pushes and pops per tail call.
    a.mov(rdi, kL);
    a.mov(rsi, kCi);
    a.xor_(edx, edx);
    a.jmp(qword_ptr(r9, offsetof(JitCallHeader, body_entry)));
  }

  // The sign of a numeric for loop's step when it is a constant: the FORPREP
  // of the loop closed by the FORLOOP at `pc` directly follows a LOADK of a
  // number into R(A+2) and no jump lands on it (R(A+2) is written only
  // there). +1 for a positive step, -1 otherwise (zero and negative steps
  // take the same branch as in the generic code), 0 when unknown.
  int KnownStepSign(int pc) const {
    Instruction i = p_->code[static_cast<size_t>(pc)];
    int prep = pc + GETARG_sBx(i);  // FORLOOP jumps to prep + 1
    if (prep < 1 || GET_OPCODE(p_->code[static_cast<size_t>(prep)]) != OP_FORPREP ||
        GETARG_A(p_->code[static_cast<size_t>(prep)]) != GETARG_A(i) || IsJumpTarget(prep))
      return 0;
    Instruction lk = p_->code[static_cast<size_t>(prep) - 1];
    if (GET_OPCODE(lk) != OP_LOADK || GETARG_A(lk) != GETARG_A(i) + 2) return 0;
    const Value& k = p_->k[static_cast<size_t>(GETARG_Bx(lk))];
    if (!k.is_number()) return 0;
    return k.n > 0 ? 1 : -1;
  }
  // Whether any instruction can continue at `target` other than by falling
  // through from target - 1.
  bool IsJumpTarget(int target) const { return jump_targets_[static_cast<size_t>(target)]; }
  // Every bytecode some instruction jumps to (OSR entries are among them:
  // they are the targets of backward jumps).
  void FindJumpTargets() {
    int n = static_cast<int>(p_->code.size());
    jump_targets_.assign(static_cast<size_t>(n) + 2, false);
    for_body_index_.assign(static_cast<size_t>(n) + 2, -1);
    auto mark = [&](int target) {
      if (target >= 0 && target <= n) jump_targets_[static_cast<size_t>(target)] = true;
    };
    for (int pc = 0; pc < n; pc++) {
      Instruction i = p_->code[static_cast<size_t>(pc)];
      switch (GET_OPCODE(i)) {
        case OP_FORLOOP: {
          int body = pc + 1 + GETARG_sBx(i);
          if (body >= 0 && body <= n) for_body_index_[static_cast<size_t>(body)] = GETARG_A(i) + 3;
          mark(body);
          break;
        }
        case OP_JMP:
        case OP_FORPREP:
          mark(pc + 1 + GETARG_sBx(i));
          break;
        case OP_LOADBOOL:
          if (GETARG_C(i)) mark(pc + 2);
          break;
        case OP_EQ:
        case OP_LT:
        case OP_LE:
        case OP_TEST:
        case OP_TESTSET:
        case OP_TFORLOOP:
          mark(pc + 2);
          break;
        case OP_SETLIST:
          if (GETARG_C(i) == 0) pc++;  // the next word is a count, not an instruction
          break;
        case OP_CLOSURE: {
          // Pseudo-instructions: a MOVE captures that slot of this frame.
          int nups = p_->p[static_cast<size_t>(GETARG_Bx(i))]->nups;
          for (int u = 1; u <= nups && pc + u < n; u++) {
            Instruction m = p_->code[static_cast<size_t>(pc + u)];
            if (GET_OPCODE(m) == OP_MOVE) captured_.set(static_cast<size_t>(GETARG_B(m)));
          }
          pc += nups;
          break;
        }
        default:
          break;
      }
    }
  }

  // ---- slots known to hold numbers -------------------------------------------
  // A forward must-analysis over the bytecode: num_in_[pc] has bit r when
  // R(r) holds a number (its tag is kTNumber) every time pc is reached, by
  // any path and in any tier (OSR continues the interpreter's state, which
  // obeys the same bytecode). Code for pc then skips R(r)'s tag checks, the
  // slow paths they guard, and stores of a tag that is already there.
  //
  // Why it holds: a frame's slots are written only by its own instructions
  // (results of calls land at and above their A; this VM has no
  // debug.setlocal; the GC clears only slots above every Lua frame's top),
  // except through open upvalues, so slots any closure of this function
  // captures are never tracked. Arithmetic on two numbers never runs a
  // metamethod, so its result is a number; with any other operand it may be
  // anything. FORPREP leaves its three slots numbers or raises an error.
  //
  // int_in_[pc] is the subset of those numbers that are integral or not
  // finite (never a fraction): integral constants; +, -, * and % of two such
  // (exact below 2^53, and every double from 2^53 up is an integer; an
  // overflow gives inf, 0 * inf NaN); unary minus; a numeric for with an
  // integral start and step (`for i = 1, n`). An array index of that kind
  // needs no test that converting it to an integer was exact: inf and NaN
  // convert to INT64_MIN, which fails the bounds check like any key outside
  // the array part.
  using SlotSet = std::bitset<256>;  // maxstacksize <= 250 (MAXSTACK)
  void ComputeNumberSlots() {
    int n = static_cast<int>(p_->code.size());
    const SlotSet& untracked = captured_;  // found by FindJumpTargets
    SlotSet all;
    all.set();
    num_in_.assign(static_cast<size_t>(n) + 1, all);
    int_in_.assign(static_cast<size_t>(n) + 1, all);
    std::vector<bool> reached(static_cast<size_t>(n) + 1, false);
    num_in_[0].reset();
    int_in_[0].reset();
    reached[0] = true;
    auto kill_from = [](SlotSet& s, int from) {
      for (int r = from; r < 256; r++) s.reset(static_cast<size_t>(r));
    };
    auto known = [&](const SlotSet& s, int x) {
      return ISK(x) ? KVal(x).is_number() : s.test(static_cast<size_t>(x));
    };
    auto integral = [](const Value& v) { return v.is_number() && !(v.n != std::floor(v.n) && std::isfinite(v.n)); };
    auto known_int = [&](const SlotSet& s, int x) {
      return ISK(x) ? integral(KVal(x)) : s.test(static_cast<size_t>(x));
    };
    bool changed = true;
    while (changed) {
      changed = false;
      for (int pc = 0; pc < n; pc++) {
        if (!reached[static_cast<size_t>(pc)]) continue;
        Instruction i = p_->code[static_cast<size_t>(pc)];
        OpCode op = GET_OPCODE(i);
        int A = GETARG_A(i), B = GETARG_B(i), C = GETARG_C(i);
        SlotSet out = num_in_[static_cast<size_t>(pc)];
        const SlotSet& iin = int_in_[static_cast<size_t>(pc)];
        SlotSet iout = iin;
        // R(r) is a number (num) and never a fraction (in) from here on, or neither.
        auto set_num = [&](int r, bool num, bool in) {
          out.set(static_cast<size_t>(r), num);
          iout.set(static_cast<size_t>(r), num && in);
        };
        auto set = [&](int r, bool num) { set_num(r, num, false); };
        int succ[2] = {pc + 1, -1};
        switch (op) {
          case OP_MOVE: set_num(A, out.test(static_cast<size_t>(B)), iin.test(static_cast<size_t>(B))); break;
          case OP_LOADK: {
            const Value& k = p_->k[static_cast<size_t>(GETARG_Bx(i))];
            set_num(A, k.is_number(), integral(k));
            break;
          }
          case OP_LOADBOOL:
            set(A, false);
            if (C) succ[0] = pc + 2;
            break;
          case OP_LOADNIL:
            for (int r = A; r <= B; r++) set(r, false);
            break;
          case OP_ADD: case OP_SUB: case OP_MUL: case OP_DIV: case OP_MOD: case OP_POW:
            set_num(A, known(out, B) && known(out, C),
                    (op == OP_ADD || op == OP_SUB || op == OP_MUL || op == OP_MOD) && known_int(iin, B) &&
                        known_int(iin, C));
            break;
          case OP_UNM: set_num(A, out.test(static_cast<size_t>(B)), iin.test(static_cast<size_t>(B))); break;
          case OP_SELF:
            set(A, false);
            set(A + 1, false);
            break;
          case OP_CONCAT:  // concatenates in place in R(B)..R(C)
            for (int r = B; r <= C; r++) set(r, false);
            set(A, false);
            break;
          case OP_SETGLOBAL: case OP_SETUPVAL: case OP_SETTABLE: case OP_CLOSE:
            break;
          case OP_JMP: succ[0] = pc + 1 + GETARG_sBx(i); break;
          case OP_EQ: case OP_LT: case OP_LE: case OP_TEST:
            succ[1] = pc + 2;
            break;
          case OP_TESTSET:
            set(A, false);
            succ[1] = pc + 2;
            break;
          case OP_CALL: case OP_TAILCALL: case OP_VARARG:
            kill_from(out, A);
            break;
          case OP_TFORLOOP:
            kill_from(out, A + 2);
            succ[1] = pc + 2;
            break;
          case OP_RETURN: succ[0] = -1; break;
          case OP_FORLOOP: {
            bool in = iin.test(static_cast<size_t>(A)) && iin.test(static_cast<size_t>(A + 2));
            set_num(A, true, in);
            set_num(A + 3, true, in);
            succ[1] = pc + 1 + GETARG_sBx(i);
            break;
          }
          case OP_FORPREP: {
            // R(A) -= R(A+2): integral when both were (A string coerced by FORPREP is never in iin).
            bool in = iin.test(static_cast<size_t>(A)) && iin.test(static_cast<size_t>(A + 2));
            set_num(A, true, in);
            set_num(A + 1, true, iin.test(static_cast<size_t>(A + 1)));
            set_num(A + 2, true, iin.test(static_cast<size_t>(A + 2)));
            succ[0] = pc + 1 + GETARG_sBx(i);
            break;
          }
          case OP_SETLIST:
            if (C == 0) succ[0] = pc + 2;
            break;
          case OP_CLOSURE:
            set(A, false);
            succ[0] = pc + 1 + p_->p[static_cast<size_t>(GETARG_Bx(i))]->nups;
            break;
          default:  // GETUPVAL, GETGLOBAL, GETTABLE, NEWTABLE, NOT, LEN: R(A) only, of any type
            set(A, false);
            break;
        }
        out &= ~untracked;
        iout &= out;
        for (int t : succ) {
          if (t < 0 || t > n) continue;
          size_t ti = static_cast<size_t>(t);
          SlotSet merged = reached[ti] ? (num_in_[ti] & out) : out;
          SlotSet imerged = reached[ti] ? (int_in_[ti] & iout) : iout;
          if (!reached[ti] || merged != num_in_[ti] || imerged != int_in_[ti]) {
            num_in_[ti] = merged;
            int_in_[ti] = imerged;
            reached[ti] = true;
            changed = true;
          }
        }
      }
    }
    for (int pc = 0; pc <= n; pc++) {
      if (!reached[static_cast<size_t>(pc)]) {
        num_in_[static_cast<size_t>(pc)].reset();
        int_in_[static_cast<size_t>(pc)].reset();
      }
    }
  }
  // Whether R(x) is a number that is never a fraction whenever pc starts (registers only).
  bool KnownIntegral(int pc, int x) const {
    return !ISK(x) && int_in_[static_cast<size_t>(pc)].test(static_cast<size_t>(x));
  }
  // ---- loop-carried values in registers ----------------------------------------
  // An innermost numeric for loop without calls keeps up to 8 slots'
  // payloads in xmm4..xmm11 for its whole body ("pins"): its index and
  // limit, and the slots its arithmetic, comparisons and array indexing read
  // most. The slots are still written by every instruction that writes them
  // (debugger, collector and OSR see every value); what goes away is the
  // store-to-load forwarding delay of reading back in the next iteration
  // what this one stored, on the loop-carried chain of the index and of
  // every accumulator. Invariant: inside the body, each pin register holds
  // its slot's payload at every bytecode boundary. It is established by
  // FORPREP and by the OSR entry (a stub at the body's first bytecode; the
  // other bytecodes of the body are not OSR entries), kept by the only
  // instructions allowed to write a pinned slot (arithmetic, unary minus,
  // MOVE, LOADK, the loop's FORLOOP), which update the register, and
  // restored after every helper call, which clobbers all xmm registers.
  struct PinLoop {
    int body = 0;  // first bytecode: a for loop's body, or a while/repeat loop's header
    std::vector<std::pair<int, Xmm>> pins;  // (slot, its register)
    Label osr;     // for loops: the OSR stub
    bool is_while = false;
    Label inner;   // while/repeat loops: past the header's pin loads, where the back edge jumps
  };
  // Classifies the bytecodes [from, to) of a candidate loop: the slots its
  // arithmetic, comparisons and array indexing read (`reads`), the slots
  // written by something that does not keep a pin (`bad`). False when the
  // range holds a call, a closure, varargs, a nested loop or anything else
  // a pin cannot live across.
  bool ScanPinnableRange(int from, int to, SlotSet* bad, std::vector<int>* reads) {
    auto read = [&](int x) {
      if (!ISK(x)) (*reads)[static_cast<size_t>(x)]++;
    };
    for (int pc = from; pc < to; pc++) {
      Instruction i = p_->code[static_cast<size_t>(pc)];
      int A = GETARG_A(i), B = GETARG_B(i), C = GETARG_C(i);
      switch (GET_OPCODE(i)) {
        case OP_ADD: case OP_SUB: case OP_MUL: case OP_DIV: case OP_MOD: case OP_POW:
          read(B);
          read(C);
          break;
        case OP_UNM: read(B); break;
        case OP_MOVE: case OP_LOADK: break;
        case OP_LT: case OP_LE: case OP_EQ:
          read(B);
          read(C);
          break;
        case OP_GETTABLE:
          read(C);
          bad->set(static_cast<size_t>(A));
          break;
        case OP_SETTABLE:
          read(B);
          break;
        case OP_JMP:
          if (GETARG_sBx(i) < 0) return false;  // a nested loop
          break;
        case OP_TEST: case OP_SETGLOBAL:
          break;
        case OP_LOADNIL:
          for (int r = A; r <= B; r++) bad->set(static_cast<size_t>(r));
          break;
        case OP_CONCAT:
          for (int r = B; r <= C; r++) bad->set(static_cast<size_t>(r));
          bad->set(static_cast<size_t>(A));
          break;
        case OP_SELF:
          bad->set(static_cast<size_t>(A));
          bad->set(static_cast<size_t>(A + 1));
          break;
        case OP_LOADBOOL: case OP_GETUPVAL: case OP_GETGLOBAL: case OP_NEWTABLE: case OP_NOT: case OP_LEN:
        case OP_TESTSET:
          bad->set(static_cast<size_t>(A));
          break;
        case OP_RETURN:
          break;
        default:  // calls, closures, varargs, nested loops, SETUPVAL, SETLIST, CLOSE
          return false;
      }
    }
    return true;
  }
  // Up to 8 pins in xmm4..xmm11: `fixed` first, then the most read slots.
  void ChoosePins(PinLoop* loop, const std::vector<int>& fixed, const SlotSet& bad, const std::vector<int>& reads,
                  const std::vector<int>& exclude) {
    uint32_t next = 4;
    for (int r : fixed) loop->pins.push_back({r, Xmm(next++)});
    std::vector<std::pair<int, int>> cand;  // (reads, slot)
    for (int r = 0; r < p_->maxstacksize && r < 256; r++) {
      if (reads[static_cast<size_t>(r)] == 0 || bad.test(static_cast<size_t>(r))) continue;
      if (std::find(fixed.begin(), fixed.end(), r) != fixed.end()) continue;
      if (std::find(exclude.begin(), exclude.end(), r) != exclude.end()) continue;
      cand.push_back({reads[static_cast<size_t>(r)], r});
    }
    std::stable_sort(cand.begin(), cand.end(), [](const auto& x, const auto& y) { return x.first > y.first; });
    for (const auto& c : cand) {
      if (next > 11) break;
      loop->pins.push_back({c.second, Xmm(next++)});
    }
  }
  // The jump targets of the instruction at pc other than pc + 1 (-1: none).
  void BranchTargets(int pc, int out[2]) const {
    Instruction i = p_->code[static_cast<size_t>(pc)];
    out[0] = out[1] = -1;
    switch (GET_OPCODE(i)) {
      case OP_JMP: case OP_FORPREP: case OP_FORLOOP:
        out[0] = pc + 1 + GETARG_sBx(i);
        break;
      case OP_EQ: case OP_LT: case OP_LE: case OP_TEST: case OP_TESTSET: case OP_TFORLOOP:
        out[0] = pc + 2;
        break;
      case OP_LOADBOOL:
        if (GETARG_C(i)) out[0] = pc + 2;
        break;
      default:
        break;
    }
  }

  void FindPinnedLoops() {
    int n = static_cast<int>(p_->code.size());
    loop_at_.assign(static_cast<size_t>(n) + 1, -1);
    // The bytecodes that are instructions (not CLOSURE's upvalue moves or a
    // SETLIST count word), as FindJumpTargets walks them.
    std::vector<bool> is_insn(static_cast<size_t>(n), true);
    for (int pc = 0; pc < n; pc++) {
      Instruction i = p_->code[static_cast<size_t>(pc)];
      int skip = 0;
      if (GET_OPCODE(i) == OP_SETLIST && GETARG_C(i) == 0) skip = 1;
      if (GET_OPCODE(i) == OP_CLOSURE) skip = p_->p[static_cast<size_t>(GETARG_Bx(i))]->nups;
      for (int k = 1; k <= skip && pc + k < n; k++) is_insn[static_cast<size_t>(pc + k)] = false;
      pc += skip;
    }
    auto add = [&](PinLoop&& loop, int first, int last) {
      int idx = static_cast<int>(pin_loops_.size());
      for (int pc = first; pc <= last; pc++) loop_at_[static_cast<size_t>(pc)] = idx;
      pin_loops_.push_back(std::move(loop));
    };
    for (int f = 0; f < n; f++) {
      if (!is_insn[static_cast<size_t>(f)]) continue;
      Instruction fi = p_->code[static_cast<size_t>(f)];
      if (GET_OPCODE(fi) == OP_FORLOOP) {
        int body = f + 1 + GETARG_sBx(fi);
        int LA = GETARG_A(fi);
        if (body < 1 || body > f) continue;
        SlotSet bad;  // written in the loop by something that does not update a pin
        std::vector<int> reads(256, 0);
        if (!ScanPinnableRange(body, f, &bad, &reads)) continue;
        // A slot some closure of the function captures (outside this loop)
        // can change behind the loop's back through the upvalue: never pinned.
        bad |= captured_;
        PinLoop loop;
        loop.body = body;
        // The index (the loop-carried chain of every iteration) and the limit.
        ChoosePins(&loop, {LA, LA + 1}, bad, reads, {LA + 2});
        loop.osr = a_->newLabel();
        out_->osr_labels[static_cast<size_t>(body)] = loop.osr;
        for (int pc = body + 1; pc <= f; pc++) out_->osr_labels[static_cast<size_t>(pc)] = Label();  // no entry
        add(std::move(loop), body, f);
      } else if (GET_OPCODE(fi) == OP_JMP && GETARG_sBx(fi) < 0) {
        // A while or repeat loop: bytecodes [h, f], entered only at h (its
        // header) from outside, closed by this backward JMP. The pins are
        // loaded at h; the back edge jumps past the loads.
        int h = f + 1 + GETARG_sBx(fi);
        if (h < 0 || LoopAt(h) >= 0) continue;
        SlotSet bad;
        std::vector<int> reads(256, 0);
        if (!ScanPinnableRange(h, f, &bad, &reads)) continue;
        bool entered_inside = false;
        for (int pc = 0; pc < n && !entered_inside; pc++) {
          if (!is_insn[static_cast<size_t>(pc)] || (pc >= h && pc <= f)) continue;
          int t[2];
          BranchTargets(pc, t);
          for (int x : t)
            if (x > h && x <= f) entered_inside = true;
        }
        if (entered_inside) continue;
        bad |= captured_;
        PinLoop loop;
        loop.body = h;
        loop.is_while = true;
        ChoosePins(&loop, {}, bad, reads, {});
        if (loop.pins.empty()) continue;
        loop.inner = a_->newLabel();
        // OSR enters at the header (PcLabel(h) loads the pins), nowhere else.
        for (int pc = h + 1; pc <= f; pc++) out_->osr_labels[static_cast<size_t>(pc)] = Label();
        add(std::move(loop), h, f);
      }
    }
  }
  // The label a jump from the current bytecode to `target` goes to: the
  // back edge of a pinned while/repeat loop skips its header's pin loads.
  const Label& JumpLabel(int target) {
    int l = LoopAt(pc_);
    if (l >= 0) {
      const PinLoop& loop = pin_loops_[static_cast<size_t>(l)];
      if (loop.is_while && loop.body == target) return loop.inner;
    }
    return PcLabel(target);
  }
  int LoopAt(int pc) const {
    return static_cast<size_t>(pc) < loop_at_.size() ? loop_at_[static_cast<size_t>(pc)] : -1;
  }
  // The pin register of R(x) at the current bytecode, if it has one.
  const Xmm* Pinned(int x) const {
    if (ISK(x)) return nullptr;
    int l = LoopAt(pc_);
    if (l < 0) return nullptr;
    for (const auto& pin : pin_loops_[static_cast<size_t>(l)].pins)
      if (pin.first == x) return &pin.second;
    return nullptr;
  }
  void LoadPins(int l) {
    for (const auto& pin : pin_loops_[static_cast<size_t>(l)].pins) a_->movsd(pin.second, Slot(pin.first));
  }
  // R(x) was just written with the payload in `src`: keep its pin register, if any, equal to it.
  void UpdatePin(int x, const Xmm& src) {
    if (const Xmm* p = Pinned(x)) a_->movapd(*p, src);
  }
  void UpdatePin(int x, const Gp& src) {
    if (const Xmm* p = Pinned(x)) a_->movq(*p, src);
  }
  // The OSR entries of pinned loops: load the pins, then the body's first bytecode.
  void EmitOsrStubs() {
    for (size_t l = 0; l < pin_loops_.size(); l++) {
      if (pin_loops_[l].is_while) continue;
      AddLine(pin_loops_[l].body);
      a_->bind(pin_loops_[l].osr);
      LoadPins(static_cast<int>(l));
      a_->jmp(PcLabel(pin_loops_[l].body));
    }
  }

  // Whether RK(x) is a number whenever the instruction at pc starts.
  bool KnownNum(int pc, int x) const {
    return ISK(x) ? KVal(x).is_number() : num_in_[static_cast<size_t>(pc)].test(static_cast<size_t>(x));
  }

  // Jump to the target of the JMP following a test instruction at pc.
  int TestJumpTarget(int pc) const {
    Instruction j = p_->code[static_cast<size_t>(pc) + 1];
    return pc + 2 + GETARG_sBx(j);
  }

  // The inline call paths' shared pieces. The callee in R(A) must be a
  // compiled, fixed-arity Lua closure with no hook budget running: leaves its
  // JitCode* (JitCallHeader first) in r9, or jumps to `slow`.
  void EmitCompiledCalleeCheck(int A, const Label& slow) {
    Assembler& a = *a_;
    a.cmp(Tag(A), kTFunction);
    a.jne(slow);
    a.mov(rax, Slot(A));
    a.cmp(byte_ptr(rax, offsetof(Closure, is_native)), 0);
    a.jne(slow);
    a.mov(rax, qword_ptr(rax, offsetof(Closure, proto)));
    a.mov(r9, qword_ptr(rax, ProtoJitCodeOffset()));
    a.test(r9, r9);
    a.jz(slow);
    a.cmp(dword_ptr(r9, offsetof(JitCallHeader, fixed_arity)), 0);
    a.je(slow);
    a.cmp(dword_ptr(kL, offsetof(State, hook_budget)), 0);
    a.jge(slow);
  }
  // With the new base in rsi and the end of the arguments in rdx: makes
  // missing arguments nil (tags only, as precall's fast path). The rest of
  // the callee's frame, extra arguments included, is made nil by the
  // callee's own entry (EmitFrameNilFill): both users enter it next, and
  // there the count is a constant, not a loop of the caller's (that loop
  // was ~8% of deltablue's hottest function). Clobbers rax, rdx.
  void EmitArgumentsToFrame() {
    Assembler& a = *a_;
    a.mov(eax, dword_ptr(r9, offsetof(JitCallHeader, numparams)));
    a.shl(rax, 4);
    a.add(rax, rsi);
    Label fill = a.newLabel(), filled = a.newLabel();
    a.cmp(rdx, rax);
    a.jae(filled);
    a.bind(fill);
    a.mov(byte_ptr(rdx, kTagOff), kTNil);
    a.add(rdx, kValueSize);
    a.cmp(rdx, rax);
    a.jb(fill);
    a.bind(filled);
  }
  // A fresh call's entry: slots numparams..maxstacksize-1 become nil (tags),
  // as precall does (the interpreter's entries have done it already; the
  // inline calls of EmitArgumentsToFrame rely on it). Vararg functions are
  // only entered through precall. OSR entries jump past this.
  void EmitFrameNilFill() {
    if (p_->is_vararg) return;
    Assembler& a = *a_;
    int from = p_->numparams, to = p_->maxstacksize;
    if (to - from <= 16) {
      for (int s = from; s < to; s++) a.mov(Tag(s), kTNil);
      return;
    }
    Label fill = a.newLabel();
    LeaSlot(rax, from);
    LeaSlot(rcx, to);
    a.bind(fill);
    a.mov(byte_ptr(rax, kTagOff), kTNil);
    a.add(rax, kValueSize);
    a.cmp(rax, rcx);
    a.jb(fill);
  }
  // Raises L->stack_hwm to the new ci->top in rcx and counts the call.
  void EmitStackHwmAndCallCount() {
    Assembler& a = *a_;
    Label hwm_ok = a.newLabel();
    a.cmp(rcx, qword_ptr(kL, offsetof(State, stack_hwm)));
    a.jbe(hwm_ok);
    a.mov(qword_ptr(kL, offsetof(State, stack_hwm)), rcx);
    a.bind(hwm_ok);
    a.mov(rax, qword_ptr(r9, offsetof(JitCallHeader, call_count)));
    a.inc(dword_ptr(rax));
  }

  // OP_CALL's fast path: the callee is a compiled, fixed-arity Lua function.
  // Pushes its CallInfo the way jit_h_call's fast path does (same checks, in
  // the same order of effects) and calls its entry natively, then jumps to
  // `done`. Anything else goes to `slow` before any state is changed.
  // The caller's savedpc is already stored.
  void EmitInlineCall(int A, int B, int C, const Label& slow, const Label& done) {
    Assembler& a = *a_;
    EmitCompiledCalleeCheck(A, slow);
    a.mov(r10, qword_ptr(kL, offsetof(State, ci)));
    a.add(r10, static_cast<int32_t>(sizeof(CallInfo)));
    a.cmp(r10, qword_ptr(kL, offsetof(State, end_ci)));
    a.jae(slow);
    LeaSlot(rsi, A + 1);  // the callee's base
    a.mov(ecx, dword_ptr(r9, offsetof(JitCallHeader, maxstacksize)));
    a.shl(rcx, 4);
    a.add(rcx, rsi);  // the callee's ci->top
    a.lea(rax, ptr(rcx, kMinStackForNative * kValueSize));
    a.cmp(rax, qword_ptr(kL, offsetof(State, stack_last)));
    a.jae(slow);
    // Arguments end at R(A+B) (or L->top after a multiple-result producer);
    // extra ones are dropped, missing ones become nil with the rest of the frame.
    if (B != 0)
      LeaSlot(rdx, A + B);
    else
      a.mov(rdx, qword_ptr(kL, offsetof(State, top)));
    EmitArgumentsToFrame();
    LeaSlot(rax, A);
    a.mov(qword_ptr(r10, offsetof(CallInfo, func)), rax);
    a.mov(qword_ptr(r10, offsetof(CallInfo, base)), rsi);
    a.mov(qword_ptr(r10, offsetof(CallInfo, top)), rcx);
    a.mov(rax, qword_ptr(r9, offsetof(JitCallHeader, code)));
    a.mov(qword_ptr(r10, offsetof(CallInfo, savedpc)), rax);
    static_assert(offsetof(CallInfo, tailcalls) == offsetof(CallInfo, nresults) + 4, "one store for both");
    if (C - 1 >= 0) {
      a.mov(qword_ptr(r10, offsetof(CallInfo, nresults)), C - 1);  // and tailcalls = 0 (sign-extended imm32)
    } else {
      a.mov(dword_ptr(r10, offsetof(CallInfo, nresults)), C - 1);
      a.mov(dword_ptr(r10, offsetof(CallInfo, tailcalls)), 0);
    }
    a.mov(qword_ptr(r10, offsetof(CallInfo, jit)), r9);
    a.mov(byte_ptr(r10, offsetof(CallInfo, tier)), 1);
    a.mov(qword_ptr(kL, offsetof(State, top)), rcx);
    EmitStackHwmAndCallCount();
    a.mov(qword_ptr(kL, offsetof(State, base)), rsi);
    a.mov(qword_ptr(kL, offsetof(State, ci)), r10);
    a.mov(rdi, kL);
    a.mov(rsi, r10);
    a.xor_(edx, edx);
    a.call(qword_ptr(r9, offsetof(JitCallHeader, entry)));
    (void)done;  // the caller binds `done` right here
  }

  bool EmitInstruction(int pc, int* skip, std::string* error);

  // Recognizes `vmtest.crash("jit-segv")`: GETGLOBAL vmtest; GETTABLE "crash"; LOADK "jit-segv"; CALL.
  bool IsJitSegvCall(int pc) const {
    if (pc < 3) return false;
    Instruction call = p_->code[static_cast<size_t>(pc)];
    Instruction gg = p_->code[static_cast<size_t>(pc) - 3];
    Instruction gt = p_->code[static_cast<size_t>(pc) - 2];
    Instruction lk = p_->code[static_cast<size_t>(pc) - 1];
    int a = GETARG_A(call);
    if (GETARG_B(call) != 2 || GET_OPCODE(gg) != OP_GETGLOBAL || GET_OPCODE(gt) != OP_GETTABLE ||
        GET_OPCODE(lk) != OP_LOADK || GETARG_A(gt) != a || GETARG_B(gt) != GETARG_A(gg) || GETARG_A(lk) != a + 1)
      return false;
    auto is_str = [](const Value& v, const char* s) { return v.is_string() && v.as_string()->str() == s; };
    return is_str(p_->k[static_cast<size_t>(GETARG_Bx(gg))], "vmtest") && ISK(GETARG_C(gt)) &&
           is_str(KVal(GETARG_C(gt)), "crash") && is_str(p_->k[static_cast<size_t>(GETARG_Bx(lk))], "jit-segv");
  }

  const Proto* p_;
  bool fp_;
  String* index_name_;
  Table* const* mt_string_slot_;
  CompileOutput* out_;
  std::unique_ptr<Assembler> a_;
  jitscope::FrameRow state_;
  jitscope::FrameRow body_state_;
  int sp_depth_ = 0;
  std::vector<bool> jump_targets_;
  int pc_ = 0;  // the bytecode being compiled
  std::vector<PinLoop> pin_loops_;
  SlotSet captured_;  // slots some closure of the function captures (FindJumpTargets)
  std::vector<int> loop_at_;  // per bytecode: its pinned loop in pin_loops_, or -1
  std::vector<SlotSet> num_in_;  // per bytecode: the slots known to hold numbers (ComputeNumberSlots)
  std::vector<SlotSet> int_in_;  // per bytecode: those of them known never to be a fraction
  std::vector<int> for_body_index_;  // per bytecode: R(A+3) of the FORLOOP whose body starts here, or -1
  std::vector<Label> for_body_fast_;  // per such body: the entry past its loop-variable load
  // Register caching within a basic block: the stack slots whose 8-byte
  // payloads xmm0 (arithmetic results) and xmm3 (values just loaded: moves,
  // constants, upvalues, table reads) hold, or -1, so that a value feeding
  // the next operation is used from a register instead of a store-to-load
  // round trip through its slot. Only payloads: tags are still checked in
  // memory. Reset at every jump target and by every instruction not known to
  // keep them.
  int xmm0_slot_ = -1;
  int xmm3_slot_ = -1;
  Label ret_epilogue_;
  bool need_ret_epilogue_ = false;
  std::vector<std::pair<int, std::function<void()>>> cold_;
};

bool Compiler::EmitInstruction(int pc, int* skip, std::string* error) {
  Assembler& a = *a_;
  Instruction i = p_->code[static_cast<size_t>(pc)];
  OpCode op = GET_OPCODE(i);
  int A = GETARG_A(i), B = GETARG_B(i), C = GETARG_C(i);
  pc_ = pc;
  // R(A)'s tag is kTNumber already: a number result needs only its payload stored.
  const bool a_num = num_in_[static_cast<size_t>(pc)].test(static_cast<size_t>(A));
  // The instructions below that neither touch xmm0/xmm3 nor write a cached
  // slot keep the caches; all others end them (loads and arithmetic set them
  // anew).
  const int cached = xmm0_slot_, loaded = xmm3_slot_;
  xmm0_slot_ = xmm3_slot_ = -1;
  auto keep_cache_unless_written = [&](int lo, int hi) {
    if (cached < lo || cached > hi) xmm0_slot_ = cached;
    if (loaded < lo || loaded > hi) xmm3_slot_ = loaded;
  };
  // The register holding R(x)'s payload, if any (never for constants).
  auto reg_of = [&](int x) -> const Xmm* {
    if (ISK(x)) return nullptr;
    if (const Xmm* p = Pinned(x)) return p;
    if (x == cached) return &xmm0;
    if (x == loaded) return &xmm3;
    return nullptr;
  };
  // After a helper call (which clobbers every xmm register): reload the
  // cached payloads that stay valid, except slot `written`.
  // By value: slow paths call it when they are emitted, after this function.
  auto reload_caches = [this, cached, loaded](int written, bool keep0) {
    if (keep0 && cached >= 0 && cached != written) a_->movsd(xmm0, Slot(cached));
    if (loaded >= 0 && loaded != written) a_->movsd(xmm3, Slot(loaded));
  };
  switch (op) {
    case OP_MOVE:
      CopyRK(SlotX(A), B, SlotX(B), a_num);
      keep_cache_unless_written(A, A);
      a.movq(xmm3, r11);  // the payload CopyValue moved
      UpdatePin(A, xmm3);
      xmm3_slot_ = A;
      break;
    case OP_LOADK:
      if (p_->k[static_cast<size_t>(GETARG_Bx(i))].is_number()) {
        a.mov(r11, qword_ptr(kK, GETARG_Bx(i) * kValueSize));
        a.mov(Slot(A), r11);
        if (!a_num) a.mov(Tag(A), kTNumber);
      } else {
        CopyValue(SlotX(A), xmmword_ptr(kK, GETARG_Bx(i) * kValueSize));
      }
      keep_cache_unless_written(A, A);
      a.movq(xmm3, r11);
      UpdatePin(A, xmm3);
      xmm3_slot_ = A;
      break;
    case OP_LOADBOOL:
      a.mov(Slot(A), B ? 1 : 0);
      a.mov(Tag(A), kTBoolean);
      if (C) a.jmp(PcLabel(pc + 2));
      keep_cache_unless_written(A, A);
      break;
    case OP_LOADNIL:
      for (int r = A; r <= B; r++) a.mov(Tag(r), kTNil);
      keep_cache_unless_written(A, B);
      break;
    case OP_GETUPVAL:
      a.mov(rax, qword_ptr(kCl, static_cast<int32_t>(offsetof(Closure, upvals) + B * sizeof(UpVal*))));
      a.mov(rax, qword_ptr(rax, offsetof(UpVal, v)));
      CopyValue(SlotX(A), xmmword_ptr(rax));
      keep_cache_unless_written(A, A);
      a.movq(xmm3, r11);
      xmm3_slot_ = A;
      break;
    case OP_SETUPVAL:
      // An open upvalue points into this frame's stack: storing through it
      // may overwrite any slot, the cached one too.
      a.mov(rax, qword_ptr(kCl, static_cast<int32_t>(offsetof(Closure, upvals) + B * sizeof(UpVal*))));
      a.mov(rax, qword_ptr(rax, offsetof(UpVal, v)));
      CopyValue(xmmword_ptr(rax), SlotX(A));
      break;
    case OP_GETGLOBAL: {
      Label slow = a.newLabel(), done = a.newLabel();
      const Value& key = p_->k[static_cast<size_t>(GETARG_Bx(i))];
      a.mov(r8, qword_ptr(kCl, offsetof(Closure, env)));
      ProbeString(r8, key.as_string(), slow);
      CopyValue(SlotX(A), xmmword_ptr(rdx));
      a.bind(done);
      Cold(pc, [=, this, &a] {
        a.bind(slow);
        SavePc(pc);
        a.mov(rdi, kL);
        a.mov(rsi, kCl);
        a.lea(rdx, ptr(kK, GETARG_Bx(i) * kValueSize));
        LeaSlot(rcx, A);
        CallHelper(jit_h_getglobal);
        a.jmp(done);
      });
      break;
    }
    case OP_SETGLOBAL:
      SavePc(pc);
      a.mov(rdi, kL);
      a.mov(rsi, kCl);
      a.lea(rdx, ptr(kK, GETARG_Bx(i) * kValueSize));
      LeaSlot(rcx, A);
      CallHelper(jit_h_setglobal);
      break;
    case OP_GETTABLE: {
      Label slow = a.newLabel(), done = a.newLabel();
      a.cmp(Tag(B), kTTable);
      a.jne(slow);
      a.mov(r8, Slot(B));
      bool chain = ISK(C) && KVal(C).is_string();
      if (chain) {
        // A field of the table itself falls through; the __index chain
        // (a class's method or default) is out of line.
        Label absent = a.newLabel(), hit = a.newLabel();
        ProbeString(r8, KVal(C).as_string(), absent);
        a.bind(hit);
        Cold(pc, [=, this, &a] {
          Label nil_result = a.newLabel();
          a.bind(absent);
          ProbeIndexChain(KVal(C).as_string(), slow, nil_result);
          a.jmp(hit);
          a.bind(nil_result);
          a.mov(Tag(A), kTNil);
          a.movsd(xmm3, Slot(A));
          a.jmp(done);
        });
      } else if (!ISK(C)) {
        // A register key: array part for integers, first hash probe for strings.
        Label not_num = a.newLabel(), found = a.newLabel();
        const bool c_num = KnownNum(pc, C);
        if (!c_num) {
          a.cmp(Tag(C), kTNumber);
          a.jne(not_num);
        }
        ArraySlot(r8, C, slow, reg_of(C), true);
        a.cmp(byte_ptr(rdx, kTagOff), kTNil);
        a.je(slow);
        if (!c_num) {
          a.jmp(found);
          a.bind(not_num);
          a.cmp(Tag(C), kTString);
          a.jne(slow);
          ProbeStringReg(r8, C, slow);
        }
        a.bind(found);
      } else {
        ArraySlot(r8, C, slow);
        a.cmp(byte_ptr(rdx, kTagOff), kTNil);
        a.je(slow);
      }
      CopyValue(SlotX(A), xmmword_ptr(rdx));
      a.movq(xmm3, r11);  // the payload CopyValue moved: R(A) is in xmm3 from here
      a.bind(done);
      if (cached != A) xmm0_slot_ = cached;  // the fast paths leave xmm0 alone
      xmm3_slot_ = A;
      Cold(pc, [=, this, &a] {
        a.bind(slow);
        SavePc(pc);
        a.mov(rdi, kL);
        LeaSlot(rsi, B);
        LeaRK(rdx, C);
        LeaSlot(rcx, A);
        CallHelper(jit_h_gettable);
        reload_caches(A, true);
        a.movsd(xmm3, Slot(A));
        a.jmp(done);
      });
      break;
    }
    case OP_SETTABLE: {
      Label slow = a.newLabel(), done = a.newLabel(), store = a.newLabel();
      a.cmp(Tag(A), kTTable);
      a.jne(slow);
      a.mov(r8, Slot(A));
      if (ISK(B) && KVal(B).is_string()) {
        ProbeString(r8, KVal(B).as_string(), slow);  // existing non-nil field: no metamethod applies
      } else if (!ISK(B) && KnownNum(pc, B)) {
        ArrayStoreSlot(r8, B, store, slow, reg_of(B), true);
      } else if (!ISK(B)) {
        Label num = a.newLabel();
        a.cmp(Tag(B), kTNumber);
        a.je(num);
        a.cmp(Tag(B), kTString);
        a.jne(slow);
        ProbeStringReg(r8, B, slow);  // existing non-nil field
        a.jmp(store);
        a.bind(num);
        ArrayStoreSlot(r8, B, store, slow, reg_of(B), true);
      } else {
        ArrayStoreSlot(r8, B, store, slow);
      }
      a.bind(store);
      CopyRK(xmmword_ptr(rdx), C, RKX(C));
      a.bind(done);
      // The fast path leaves xmm0 alone; the helper may run a __newindex that
      // stores through an open upvalue into this frame, so reload after it.
      xmm0_slot_ = cached;
      xmm3_slot_ = loaded;
      Cold(pc, [=, this, &a] {
        a.bind(slow);
        SavePc(pc);
        a.mov(rdi, kL);
        LeaSlot(rsi, A);
        LeaRK(rdx, B);
        LeaRK(rcx, C);
        CallHelper(jit_h_settable);
        reload_caches(-1, true);
        a.jmp(done);
      });
      break;
    }
    case OP_NEWTABLE:
      SavePc(pc);
      a.mov(rdi, kL);
      LeaSlot(rsi, A);
      a.mov(edx, B);
      a.mov(ecx, C);
      CallHelper(jit_h_newtable);
      break;
    case OP_SELF: {
      Label slow = a.newLabel(), done = a.newLabel();
      CopyValue(SlotX(A + 1), SlotX(B));
      if (ISK(C) && KVal(C).is_string()) {
        Label is_table = a.newLabel(), absent = a.newLabel(), hit = a.newLabel(), have_mt = a.newLabel(),
              nil_result = a.newLabel();
        a.cmp(Tag(B), kTTable);
        a.je(is_table);
        // A string receiver (s:sub(...)): its methods come from the strings' metatable.
        a.cmp(Tag(B), kTString);
        a.jne(slow);
        a.mov(r9, imm(reinterpret_cast<uint64_t>(mt_string_slot_)));
        a.mov(r9, qword_ptr(r9));
        a.test(r9, r9);
        a.jz(slow);
        a.mov(esi, 8);
        a.jmp(have_mt);
        a.bind(is_table);
        a.mov(r8, Slot(B));
        ProbeString(r8, KVal(C).as_string(), absent);
        a.jmp(hit);
        a.bind(absent);
        ProbeIndexChain(KVal(C).as_string(), slow, nil_result, &have_mt);
        a.bind(hit);
        CopyValue(SlotX(A), xmmword_ptr(rdx));
        a.jmp(done);
        a.bind(nil_result);
        a.mov(Tag(A), kTNil);
        a.bind(done);
      }
      auto emit_slow = [=, this, &a] {
        a.bind(slow);
        SavePc(pc);
        a.mov(rdi, kL);
        LeaSlot(rsi, A);
        LeaSlot(rdx, B);  // R(B) itself (error messages name it); read before R(A) is written
        LeaRK(rcx, C);
        CallHelper(jit_h_self);
      };
      if (ISK(C) && KVal(C).is_string()) {
        Cold(pc, [=, &a] {
          emit_slow();
          a.jmp(done);
        });
      } else {
        emit_slow();
        a.bind(done);
      }
      break;
    }
    case OP_ADD:
    case OP_SUB:
    case OP_MUL:
    case OP_DIV:
    case OP_MOD:
    case OP_POW: {
      Label slow = a.newLabel(), done = a.newLabel();
      const bool kb_num = KnownNum(pc, B), kc_num = KnownNum(pc, C);
      if (ISK(B) && !kb_num) {
        a.jmp(slow);
      } else if (!kb_num) {
        a.cmp(RKTag(B), kTNumber);
        a.jne(slow);
      }
      if (ISK(C) && !kc_num) {
        a.jmp(slow);
      } else if (!kc_num) {
        a.cmp(RKTag(C), kTNumber);
        a.jne(slow);
      }
      // B goes to xmm0; C is used from its cache register, or memory. C
      // first: if it is in xmm0, it moves to xmm1 before B goes there.
      const Xmm* rb = reg_of(B);
      const Xmm* rc = reg_of(C);
      if (rc == &xmm0) {
        a.movapd(xmm1, xmm0);
        rc = &xmm1;
      }
      if (!rb) a.movsd(xmm0, RK(B));
      else if (rb != &xmm0) a.movapd(xmm0, *rb);
      auto with_c = [&](auto&& emit) {
        if (rc)
          emit(*rc);
        else
          emit(RK(C));
      };
      auto c_to_xmm1 = [&] {
        if (!rc)
          a.movsd(xmm1, RK(C));
        else if (rc != &xmm1)
          a.movapd(xmm1, *rc);
      };
      switch (op) {
        case OP_ADD: with_c([&](const auto& c) { a.addsd(xmm0, c); }); break;
        case OP_SUB: with_c([&](const auto& c) { a.subsd(xmm0, c); }); break;
        case OP_MUL: with_c([&](const auto& c) { a.mulsd(xmm0, c); }); break;
        case OP_DIV: with_c([&](const auto& c) { a.divsd(xmm0, c); }); break;
        case OP_MOD:
          // a - floor(a/b)*b, as the interpreter (luai_nummod).
          c_to_xmm1();
          a.movsd(xmm2, xmm0);
          a.divsd(xmm2, xmm1);
          a.roundsd(xmm2, xmm2, 9);  // floor, no precision exception
          a.mulsd(xmm2, xmm1);
          a.subsd(xmm0, xmm2);
          break;
        default:  // POW
          c_to_xmm1();
          CallHelper(static_cast<double (*)(double, double)>(std::pow));
          break;
      }
      a.movsd(Slot(A), xmm0);
      if (!a_num) a.mov(Tag(A), kTNumber);
      UpdatePin(A, xmm0);
      a.bind(done);
      xmm0_slot_ = A;
      // std::pow clobbers xmm3; otherwise it stays valid unless A was it.
      const bool keep3 = op != OP_POW && loaded >= 0 && loaded != A;
      if (keep3) xmm3_slot_ = loaded;
      if (kb_num && kc_num) break;  // two numbers: no metamethod, no slow path
      Cold(pc, [=, this, &a] {
        a.bind(slow);
        SavePc(pc);
        a.mov(rdi, kL);
        LeaSlot(rsi, A);
        LeaRK(rdx, B);
        LeaRK(rcx, C);
        a.mov(r8d, static_cast<int>(op) - OP_ADD);
        CallHelper(jit_h_arith);
        // Whatever the metamethod returned: xmm0 holds R(A)'s payload at done.
        a.movsd(xmm0, Slot(A));
        if (keep3) a.movsd(xmm3, Slot(loaded));
        a.jmp(done);
      });
      break;
    }
    case OP_UNM: {
      Label slow = a.newLabel(), done = a.newLabel();
      const bool b_num = KnownNum(pc, B);
      if (!b_num) {
        a.cmp(Tag(B), kTNumber);
        a.jne(slow);
      }
      a.mov(rax, Slot(B));
      a.btc(rax, 63);
      a.mov(Slot(A), rax);
      if (!a_num) a.mov(Tag(A), kTNumber);
      UpdatePin(A, rax);
      a.bind(done);
      if (b_num) break;
      Cold(pc, [=, this, &a] {
        a.bind(slow);
        SavePc(pc);
        a.mov(rdi, kL);
        LeaSlot(rsi, A);
        LeaSlot(rdx, B);
        LeaSlot(rcx, B);
        a.mov(r8d, 6);  // TM_UNM - TM_ADD
        CallHelper(jit_h_arith);
        a.jmp(done);
      });
      break;
    }
    case OP_NOT: {
      Label falsy = a.newLabel(), done = a.newLabel();
      BranchIfFalsy(B, falsy);
      a.mov(Slot(A), 0);
      a.jmp(done);
      a.bind(falsy);
      a.mov(Slot(A), 1);
      a.bind(done);
      a.mov(Tag(A), kTBoolean);
      break;
    }
    case OP_LEN: {
      Label slow = a.newLabel(), done = a.newLabel(), not_table = a.newLabel();
      // Tables: the border, never a metamethod in Lua 5.1 (table_length cannot fail).
      a.cmp(Tag(B), kTTable);
      a.jne(not_table);
      a.mov(rdi, Slot(B));
      CallHelper(static_cast<int64_t (*)(Table*)>(table_length));
      a.xorps(xmm0, xmm0);
      a.cvtsi2sd(xmm0, rax);
      a.movsd(Slot(A), xmm0);
      a.mov(Tag(A), kTNumber);
      a.jmp(done);
      a.bind(not_table);
      a.cmp(Tag(B), kTString);
      a.jne(slow);
      a.mov(rax, Slot(B));
      a.mov(eax, dword_ptr(rax, offsetof(String, len)));
      a.xorps(xmm0, xmm0);
      a.cvtsi2sd(xmm0, rax);
      a.movsd(Slot(A), xmm0);
      a.mov(Tag(A), kTNumber);
      a.bind(done);
      Cold(pc, [=, this, &a] {
        a.bind(slow);
        SavePc(pc);
        a.mov(rdi, kL);
        LeaSlot(rsi, A);
        LeaSlot(rdx, B);
        CallHelper(jit_h_len);
        a.jmp(done);
      });
      break;
    }
    case OP_CONCAT:
      SavePc(pc);
      a.mov(rdi, kL);
      a.mov(rsi, kBase);
      a.mov(edx, A);
      a.mov(ecx, B);
      a.mov(r8d, C);
      CallHelper(jit_h_concat);
      break;
    case OP_JMP:
      a.jmp(JumpLabel(pc + 1 + GETARG_sBx(i)));
      break;
    case OP_EQ:
    case OP_LT:
    case OP_LE: {
      // Jump to the following JMP's target when (RK(B) op RK(C)) == A, else skip it.
      Label slow = a.newLabel(), num = a.newLabel();
      int target = TestJumpTarget(pc);
      const Label& yes = JumpLabel(target);
      const Label& next = PcLabel(pc + 2);
      bool want = A != 0;
      const bool kb_num = KnownNum(pc, B), kc_num = KnownNum(pc, C);
      bool need_slow = true;
      // The op's last jump: none when it goes to `next` and the JMP is fused.
      const bool fuse = FuseTestJump(pc);
      auto tail_jmp = [&](const Label& l) {
        if (!(fuse && l.id() == next.id())) a.jmp(l);
      };
      const bool one_k = ISK(B) != ISK(C);
      const Value* kv = one_k ? &KVal(ISK(B) ? B : C) : nullptr;
      if (op == OP_EQ && kv && (kv->is_number() || kv->is_string() || kv->is_nil() || kv->is_boolean())) {
        // A register against a constant number, string, nil or boolean: one
        // tag test, then the payloads (strings are interned: identity). No
        // metamethod applies (__eq needs two tables or two userdata).
        int kx = ISK(B) ? B : C, rx = ISK(B) ? C : B;
        const Label& eq = want ? yes : next;
        const Label& ne = want ? next : yes;
        if (kv->is_nil()) {
          a.cmp(Tag(rx), kTNil);
          a.je(eq);
          tail_jmp(ne);
        } else if (kv->is_number()) {
          if (!KnownNum(pc, rx)) {
            a.cmp(Tag(rx), kTNumber);
            a.jne(ne);
          }
          const Xmm* r = reg_of(rx);
          if (!r) {
            a.movsd(xmm1, Slot(rx));
            r = &xmm1;
          }
          a.ucomisd(*r, RK(kx));
          a.jp(ne);  // NaN: not equal
          a.je(eq);
          tail_jmp(ne);
        } else {
          // Strings by identity (the pointer), booleans by their int.
          bool str = kv->is_string();
          a.cmp(Tag(rx), str ? kTString : kTBoolean);
          a.jne(ne);
          if (str) {
            a.mov(rax, Slot(rx));
            a.cmp(rax, RK(kx));
          } else {
            a.mov(eax, RKd(rx));
            a.cmp(eax, RKd(kx));
          }
          a.je(eq);
          tail_jmp(ne);
        }
      } else if (op == OP_EQ && kb_num && kc_num) {
        need_slow = false;
        a.movsd(xmm0, RK(B));
        a.ucomisd(xmm0, RK(C));
        a.jp(want ? next : yes);  // NaN: not equal
        a.je(want ? yes : next);
        tail_jmp(want ? next : yes);
      } else if (op == OP_EQ) {
        // Different tags: never equal (no metamethod applies).
        a.movzx(eax, RKTag(B));
        a.movzx(ecx, RKTag(C));
        a.cmp(eax, ecx);
        a.jne(want ? next : yes);
        a.cmp(eax, kTNumber);
        a.je(num);
        a.cmp(eax, kTTable);
        a.je(slow);
        a.cmp(eax, kTUserdata);
        a.je(slow);
        a.cmp(eax, kTNil);
        a.je(want ? yes : next);
        a.cmp(eax, kTBoolean);
        Label ptr_cmp = a.newLabel();
        a.jne(ptr_cmp);
        a.mov(eax, RKd(B));
        a.cmp(eax, RKd(C));
        a.je(want ? yes : next);
        a.jmp(want ? next : yes);
        a.bind(ptr_cmp);
        a.mov(rax, RK(B));
        a.cmp(rax, RK(C));
        a.je(want ? yes : next);
        a.jmp(want ? next : yes);
        a.bind(num);
        a.movsd(xmm0, RK(B));
        a.ucomisd(xmm0, RK(C));
        a.jp(want ? next : yes);  // NaN: not equal
        a.je(want ? yes : next);
        tail_jmp(want ? next : yes);
      } else {
        if (ISK(B) && !kb_num) a.jmp(slow);
        else if (!kb_num) { a.cmp(RKTag(B), kTNumber); a.jne(slow); }
        if (ISK(C) && !kc_num) a.jmp(slow);
        else if (!kc_num) { a.cmp(RKTag(C), kTNumber); a.jne(slow); }
        // B < C  <=>  C > B (unordered gives CF=1: false); B <= C <=> C >= B.
        // Operands from the register cache where they are there.
        const Xmm* rb = reg_of(B);
        const Xmm* rc = reg_of(C);
        if (!rc) {
          a.movsd(xmm1, RK(C));
          rc = &xmm1;
        }
        if (rb)
          a.ucomisd(*rc, *rb);
        else
          a.ucomisd(*rc, RK(B));
        if (op == OP_LT) {
          if (want) a.ja(yes); else a.jbe(yes);
        } else {
          if (want) a.jae(yes); else a.jb(yes);
        }
        tail_jmp(next);
        need_slow = !(kb_num && kc_num);
      }
      if (fuse) *skip = 1;
      Label yes_l = yes, next_l = next;
      if (!need_slow) break;
      Cold(pc, [=, this, &a] {
        a.bind(slow);
        SavePc(pc);
        a.mov(rdi, kL);
        LeaRK(rsi, B);
        LeaRK(rdx, C);
        CallHelper(op == OP_EQ ? jit_h_eq : op == OP_LT ? jit_h_lt : jit_h_le);
        a.test(eax, eax);
        if (want) a.jnz(yes_l); else a.jz(yes_l);
        a.jmp(next_l);
      });
      break;
    }
    case OP_TEST: {
      int target = TestJumpTarget(pc);
      // if not (R(A) <=> C) then pc++  : jump when truthiness == C
      if (C)
        BranchIfTruthy(A, JumpLabel(target));
      else
        BranchIfFalsy(A, JumpLabel(target));
      if (FuseTestJump(pc))
        *skip = 1;
      else
        a.jmp(PcLabel(pc + 2));
      break;
    }
    case OP_TESTSET: {
      int target = TestJumpTarget(pc);
      Label falsy = a.newLabel(), take = a.newLabel();
      BranchIfFalsy(B, falsy);
      if (C) a.jmp(take); else a.jmp(PcLabel(pc + 2));
      a.bind(falsy);
      if (C) a.jmp(PcLabel(pc + 2));
      a.bind(take);
      CopyValue(SlotX(A), SlotX(B));
      a.jmp(JumpLabel(target));
      break;
    }
    case OP_CALL: {
      if (IsJitSegvCall(pc)) {
        // vmtest.crash("jit-segv"): fault here, in this function's own code,
        // so crash tools see a SIGSEGV whose pc is in compiled code.
        SavePc(pc);
        a.xor_(eax, eax);
        a.mov(rax, qword_ptr(rax));
        break;
      }
      Label done = a.newLabel(), slow = a.newLabel();
      SavePc(pc);
      EmitInlineCall(A, B, C, slow, done);
      Cold(pc, [=, this, &a] {
        a.bind(slow);
        if (B != 0) {
          LeaSlot(rax, A + B);
          a.mov(qword_ptr(kL, offsetof(State, top)), rax);
        }
        a.mov(rdi, kL);
        LeaSlot(rsi, A);
        a.mov(edx, C - 1);
        CallHelper(jit_h_call);
        a.test(rax, rax);
        a.jz(done);
        // Compiled callee: a native call, so its return address is in this code.
        a.mov(rdi, kL);
        a.mov(rsi, qword_ptr(kL, offsetof(State, ci)));
        a.xor_(edx, edx);
        a.call(rax);
        a.jmp(done);
      });
      a.bind(done);
      if (C != 0) SetTopToCiTop();
      break;
    }
    case OP_TAILCALL: {
      Label done = a.newLabel();
      if (B != 0) {
        LeaSlot(rax, A + B);
        a.mov(qword_ptr(kL, offsetof(State, top)), rax);
      }
      SavePc(pc);
      Label slow = a.newLabel();
      if (B <= 8) EmitInlineTailCall(A, B, slow);
      a.bind(slow);
      a.mov(rdi, kL);
      LeaSlot(rsi, A);
      CallHelper(jit_h_tailcall);
      a.test(rax, rax);
      a.jz(done);
      // The callee's frame replaced ours (same CallInfo): continue in its
      // body in our native frame, so it returns straight to our caller.
      a.mov(rdi, kL);
      a.mov(rsi, kCi);
      a.xor_(edx, edx);
      a.jmp(rax);
      a.bind(done);
      break;
    }
    case OP_RETURN: {
      if (B == 1 || B == 2) {
        // Zero or one value, no open upvalues in this frame, and a caller that
        // wants 0, 1 or all results (statement, expression, last argument):
        // pop the frame inline with poscall's effects.
        Label slow = a.newLabel(), no_upvals = a.newLabel(), not_one = a.newLabel(), not_zero = a.newLabel(),
              pop = a.newLabel();
        a.mov(rax, qword_ptr(kL, offsetof(State, open_upval)));
        a.test(rax, rax);
        a.jz(no_upvals);
        a.cmp(qword_ptr(rax, offsetof(UpVal, v)), kBase);
        a.jae(slow);
        a.bind(no_upvals);
        a.mov(r8, qword_ptr(kCi, offsetof(CallInfo, func)));
        a.mov(eax, dword_ptr(kCi, offsetof(CallInfo, nresults)));
        a.cmp(eax, 1);
        a.jne(not_one);
        if (B == 2)
          CopyRK(xmmword_ptr(r8), A, SlotX(A));
        else
          a.mov(byte_ptr(r8, kTagOff), kTNil);
        a.lea(rax, ptr(r8, kValueSize));
        a.mov(edx, 1);
        a.jmp(pop);
        a.bind(not_one);
        a.test(eax, eax);
        a.jnz(not_zero);
        a.mov(rax, r8);
        a.mov(edx, 1);
        a.jmp(pop);
        a.bind(not_zero);
        a.cmp(eax, kMultRet);
        a.jne(slow);
        if (B == 2) CopyRK(xmmword_ptr(r8), A, SlotX(A));
        a.lea(rax, ptr(r8, (B - 1) * kValueSize));
        a.xor_(edx, edx);  // all results: the caller takes L->top as it is
        a.bind(pop);
        a.mov(qword_ptr(kL, offsetof(State, top)), rax);
        a.lea(rcx, ptr(kCi, -static_cast<int32_t>(sizeof(CallInfo))));
        a.mov(qword_ptr(kL, offsetof(State, ci)), rcx);
        a.mov(rcx, qword_ptr(rcx, offsetof(CallInfo, base)));
        a.mov(qword_ptr(kL, offsetof(State, base)), rcx);
        a.mov(eax, edx);
        JumpToReturnEpilogue();
        a.bind(slow);
      }
      if (B != 0) {
        LeaSlot(rax, A + B - 1);
        a.mov(qword_ptr(kL, offsetof(State, top)), rax);
      }
      SavePc(pc);
      a.mov(rdi, kL);
      LeaSlot(rsi, A);
      a.mov(rdx, kBase);
      CallHelper(jit_h_return);
      JumpToReturnEpilogue();
      break;
    }
    case OP_FORLOOP: {
      Label neg = a.newLabel(), cont = a.newLabel(), exit = a.newLabel();
      int step_sign = KnownStepSign(pc);
      if (step_sign != 0) {
        // The step is a constant: no test of its sign on every iteration.
        int k = GETARG_Bx(p_->code[static_cast<size_t>(pc + GETARG_sBx(i)) - 1]);
        const Xmm* pa = Pinned(A);
        const Xmm* pl = Pinned(A + 1);
        if (pa)
          a.movapd(xmm0, *pa);
        else
          a.movsd(xmm0, Slot(A));
        a.addsd(xmm0, qword_ptr(kK, k * kValueSize));
        if (pl)
          a.movapd(xmm1, *pl);
        else
          a.movsd(xmm1, Slot(A + 1));
        if (step_sign > 0)
          a.ucomisd(xmm1, xmm0);  // continue while idx <= limit
        else
          a.ucomisd(xmm0, xmm1);  // continue while limit <= idx
        a.jb(exit);
        a.movsd(Slot(A), xmm0);
        a.movsd(Slot(A + 3), xmm0);
        a.mov(Tag(A + 3), kTNumber);
        UpdatePin(A, xmm0);
        UpdatePin(A + 3, xmm0);
        JumpToForBody(pc + 1 + GETARG_sBx(i));
        a.bind(exit);
        (void)neg;
        (void)cont;
        break;
      }
      a.movsd(xmm0, Slot(A));
      a.addsd(xmm0, Slot(A + 2));
      a.movsd(xmm1, Slot(A + 1));
      a.movsd(xmm2, Slot(A + 2));
      a.xorpd(xmm3, xmm3);
      a.ucomisd(xmm2, xmm3);
      a.jbe(neg);
      a.ucomisd(xmm1, xmm0);  // continue while idx <= limit
      a.jb(exit);
      a.jmp(cont);
      a.bind(neg);
      a.ucomisd(xmm0, xmm1);  // continue while limit <= idx
      a.jb(exit);
      a.bind(cont);
      a.movsd(Slot(A), xmm0);
      a.movsd(Slot(A + 3), xmm0);
      a.mov(Tag(A + 3), kTNumber);
      UpdatePin(A, xmm0);
      UpdatePin(A + 3, xmm0);
      JumpToForBody(pc + 1 + GETARG_sBx(i));
      a.bind(exit);
      break;
    }
    case OP_FORPREP: {
      Label slow = a.newLabel(), ok = a.newLabel();
      a.cmp(Tag(A), kTNumber);
      a.jne(slow);
      a.cmp(Tag(A + 1), kTNumber);
      a.jne(slow);
      a.cmp(Tag(A + 2), kTNumber);
      a.je(ok);
      a.bind(slow);
      SavePc(pc);
      a.mov(rdi, kL);
      LeaSlot(rsi, A);
      CallHelper(jit_h_forprep);
      a.bind(ok);
      a.movsd(xmm0, Slot(A));
      a.subsd(xmm0, Slot(A + 2));
      a.movsd(Slot(A), xmm0);
      if (int l = LoopAt(pc + 1 + GETARG_sBx(i)); l >= 0) LoadPins(l);  // the loop's pins, from the slots
      a.jmp(PcLabel(pc + 1 + GETARG_sBx(i)));
      break;
    }
    case OP_TFORLOOP: {
      int target = TestJumpTarget(pc);
      SavePc(pc);
      a.mov(rdi, kL);
      LeaSlot(rsi, A);
      a.mov(edx, C);
      CallHelper(jit_h_tforloop);
      a.test(eax, eax);
      a.jnz(PcLabel(target));
      a.jmp(PcLabel(pc + 2));
      break;
    }
    case OP_SETLIST: {
      int c = C;
      if (c == 0) {
        c = static_cast<int>(p_->code[static_cast<size_t>(pc) + 1]);
        *skip = 1;
      }
      SavePc(pc);
      a.mov(rdi, kL);
      LeaSlot(rsi, A);
      a.mov(edx, B);
      a.mov(ecx, c);
      CallHelper(jit_h_setlist);
      if (*skip) a.jmp(PcLabel(pc + 2));
      break;
    }
    case OP_CLOSE:
      a.mov(rdi, kL);
      LeaSlot(rsi, A);
      CallHelper(jit_h_close);
      break;
    case OP_CLOSURE: {
      const Proto* child = p_->p[static_cast<size_t>(GETARG_Bx(i))];
      SavePc(pc);
      a.mov(rdi, kL);
      a.mov(rsi, kCl);
      a.mov(rdx, kBase);
      LeaSlot(rcx, A);
      a.mov(r8d, GETARG_Bx(i));
      a.mov(r9, imm(reinterpret_cast<uint64_t>(p_->code.data() + pc + 1)));
      CallHelper(jit_h_closure);
      *skip = child->nups;
      if (*skip) a.jmp(PcLabel(pc + 1 + child->nups));
      break;
    }
    case OP_VARARG:
      SavePc(pc);
      a.mov(rdi, kL);
      LeaSlot(rsi, A);
      a.mov(edx, B);
      CallHelper(jit_h_vararg);
      break;
    default:
      *error = std::string("unsupported opcode ") + kOpNames[op];
      return false;
  }
  return true;
}

}  // namespace

bool compile_proto(const Proto* p, bool frame_pointers, String* index_name, Table* const* mt_string_slot,
                   CompileOutput* out, std::string* error) {
  Compiler c(p, frame_pointers, index_name, mt_string_slot, out);
  return c.Run(error);
}

}  // namespace jit
}  // namespace jitvm
