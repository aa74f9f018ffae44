// UnwindStack: libunwind over our own accessors (see unwinder.h). libunwind
// steps with DWARF CFI; we decide per frame whether CFI exists (our
// find_proc_info answered) and otherwise take one frame-pointer step and
// restart libunwind from the registers that step recovered.
#include <libunwind.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "jit_unwind_table.h"
#include "native_unwind_table.h"
#include "unwinder/unwinder.h"

// Exported by libunwind (and used by its libunwind-ptrace) but not declared
// in its public headers.
extern "C" int _Ux86_64_dwarf_search_unwind_table(unw_addr_space_t as, unw_word_t ip, unw_dyn_info_t* di,
                                                  unw_proc_info_t* pi, int need_unwind_info, void* arg);

namespace jitscope {
namespace {

// Converted JIT CFI is served to libunwind from this range: the kernel half
// of the address space, which is never user memory, so these reads can never
// be confused with the target's.
constexpr uint64_t kSyntheticBase = 0xffffe00000000000ull;
// Bounds what one unwind converts (an FDE is a few hundred bytes; 64 MiB is
// far more than max_frames distinct functions need).
constexpr uint64_t kMaxSyntheticBytes = uint64_t{64} << 20;
// Synthetic blobs start on this boundary so libunwind's aligned word reads
// never straddle two of them.
constexpr uint64_t kSyntheticAlignment = 16;
// User-space addresses on x86-64 (47-bit); anything above is not a pc or sp.
constexpr uint64_t kUserAddressLimit = 0x0000800000000000ull;
// A frame pointer frame is at least the saved rbp and the return address.
constexpr uint64_t kFramePointerFrameSize = 16;
// libunwind reports a signal frame's interrupted context anywhere (an
// alternate signal stack may lie below or above); after one we allow sp to
// go down, but not for more than this many signal frames in one stack.
constexpr int kMaxSignalFrames = 16;

struct Context {
  Context(Memory& m, const std::vector<MapEntry>& maps, const JitSnapshot& jit, const UnwindOptions& options)
      : memory(m), jit_table(jit, m), native_table(maps, m, options.files, options.pid) {}

  Memory& memory;
  JitUnwindTable jit_table;
  NativeUnwindTable native_table;
  Registers regs{};  // what libunwind's frame 0 starts from (after a frame-pointer step: what it recovered)
  std::map<uint64_t, std::vector<uint8_t>> synthetic;  // by address
  std::map<std::pair<size_t, uint64_t>, std::pair<uint64_t, uint64_t>> converted;  // (entry, FDE start) -> (blob, table)
  uint64_t next_synthetic = kSyntheticBase;
  // Which table answered the last find_proc_info (Method of the next frame).
  UnwoundFrame::Method found = UnwoundFrame::Method::kRegisters;
  bool found_any = false;

  size_t ReadSynthetic(uint64_t addr, void* dst, size_t n) {
    auto it = synthetic.upper_bound(addr);
    if (it == synthetic.begin()) return 0;
    --it;
    if (addr - it->first >= it->second.size()) return 0;
    size_t k = std::min<uint64_t>(n, it->second.size() - (addr - it->first));
    memcpy(dst, it->second.data() + (addr - it->first), k);
    return k;
  }

  int ReadWord(uint64_t addr, unw_word_t* value) {
    uint8_t bytes[sizeof(unw_word_t)] = {};
    size_t got = 0;
    if (addr >= kSyntheticBase) {
      got = ReadSynthetic(addr, bytes, sizeof(bytes));
    } else {
      got = native_table.Read(addr, bytes, sizeof(bytes));
      if (got == 0) {
        while (got < sizeof(bytes)) {
          size_t k = memory.Read(addr + got, bytes + got, sizeof(bytes) - got);
          if (k == 0) break;
          got += k;
        }
      }
      if (got == 0) got = native_table.ReadWritableFallback(addr, bytes, sizeof(bytes));
    }
    // A word that starts readable and ends at a mapping's end is zero-filled:
    // libunwind reads single bytes through aligned words.
    if (got == 0) return -UNW_EINVAL;
    memcpy(value, bytes, sizeof(bytes));
    return 0;
  }

  // Places the converted FDE of a JIT function at a synthetic address.
  bool SyntheticTable(const JitUnwindTable::Match& match, uint64_t* blob, uint64_t* table) {
    auto key = std::make_pair(match.entry, match.fde->start);
    auto found_blob = converted.find(key);
    if (found_blob != converted.end()) {
      *blob = found_blob->second.first;
      *table = found_blob->second.second;
      return true;
    }
    size_t table_offset = 0;
    std::vector<uint8_t> bytes = match.table->BuildEhFrame(*match.fde, &table_offset);
    if (next_synthetic - kSyntheticBase + bytes.size() > kMaxSyntheticBytes) return false;
    *blob = next_synthetic;
    *table = next_synthetic + table_offset;
    next_synthetic += (bytes.size() + kSyntheticAlignment - 1) / kSyntheticAlignment * kSyntheticAlignment;
    synthetic.emplace(*blob, std::move(bytes));
    converted.emplace(key, std::make_pair(*blob, *table));
    return true;
  }
};

Context* Ctx(void* arg) { return static_cast<Context*>(arg); }

int FindProcInfo(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t* pi, int need_unwind_info, void* arg) {
  Context* c = Ctx(arg);
  if (std::optional<JitUnwindTable::Match> match = c->jit_table.Find(ip)) {
    uint64_t blob = 0, table = 0;
    if (!c->SyntheticTable(*match, &blob, &table)) return -UNW_ENOINFO;
    unw_dyn_info_t di{};
    // IP_OFFSET: table start offsets are relative to start_ip, FDE offsets
    // to segbase, so the blob need not lie within 2 GiB of the code.
    di.format = UNW_INFO_FORMAT_IP_OFFSET;
    di.start_ip = match->fde->start;
    di.end_ip = match->fde->start + match->fde->size;
    di.u.rti.segbase = blob;
    di.u.rti.table_data = table;
    di.u.rti.table_len = 1;  // one 8-byte entry = one word
    int ret = _Ux86_64_dwarf_search_unwind_table(as, ip, &di, pi, need_unwind_info, arg);
    if (ret == 0) {
      c->found = UnwoundFrame::Method::kJitCfi;
      c->found_any = true;
    }
    return ret;
  }
  if (c->jit_table.Covers(ip)) return -UNW_ENOINFO;  // JIT code without CFI: not a native module's
  if (std::optional<unw_dyn_info_t> di = c->native_table.Find(ip)) {
    int ret = _Ux86_64_dwarf_search_unwind_table(as, ip, &*di, pi, need_unwind_info, arg);
    if (ret == 0) {
      c->found = UnwoundFrame::Method::kNativeCfi;
      c->found_any = true;
    }
    return ret;
  }
  return -UNW_ENOINFO;
}

void PutUnwindInfo(unw_addr_space_t, unw_proc_info_t*, void*) {
  // libunwind's DWARF parser owns what it put in unwind_info (its mempool).
}

int GetDynInfoListAddr(unw_addr_space_t, unw_word_t*, void*) { return -UNW_ENOINFO; }

int AccessMem(unw_addr_space_t, unw_word_t addr, unw_word_t* value, int write, void* arg) {
  if (write) return -UNW_EINVAL;  // we inspect, never modify
  return Ctx(arg)->ReadWord(addr, value);
}

uint64_t* RegisterSlot(Registers& r, unw_regnum_t reg) {
  switch (reg) {
    case UNW_X86_64_RAX: return &r.rax;
    case UNW_X86_64_RDX: return &r.rdx;
    case UNW_X86_64_RCX: return &r.rcx;
    case UNW_X86_64_RBX: return &r.rbx;
    case UNW_X86_64_RSI: return &r.rsi;
    case UNW_X86_64_RDI: return &r.rdi;
    case UNW_X86_64_RBP: return &r.rbp;
    case UNW_X86_64_RSP: return &r.rsp;
    case UNW_X86_64_R8: return &r.r8;
    case UNW_X86_64_R9: return &r.r9;
    case UNW_X86_64_R10: return &r.r10;
    case UNW_X86_64_R11: return &r.r11;
    case UNW_X86_64_R12: return &r.r12;
    case UNW_X86_64_R13: return &r.r13;
    case UNW_X86_64_R14: return &r.r14;
    case UNW_X86_64_R15: return &r.r15;
    case UNW_X86_64_RIP: return &r.rip;
    default: return nullptr;
  }
}

int AccessReg(unw_addr_space_t, unw_regnum_t reg, unw_word_t* value, int write, void* arg) {
  uint64_t* slot = RegisterSlot(Ctx(arg)->regs, reg);
  if (slot == nullptr) return -UNW_EBADREG;
  if (write)
    *slot = *value;
  else
    *value = *slot;
  return 0;
}

int AccessFpReg(unw_addr_space_t, unw_regnum_t, unw_fpreg_t*, int, void*) { return -UNW_EBADREG; }
int Resume(unw_addr_space_t, unw_cursor_t*, void*) { return -UNW_EINVAL; }
int GetProcName(unw_addr_space_t, unw_word_t, char*, size_t, unw_word_t*, void*) { return -UNW_ENOINFO; }

struct AddressSpace {
  unw_addr_space_t as = nullptr;
  AddressSpace() {
    unw_accessors_t accessors{};
    accessors.find_proc_info = FindProcInfo;
    accessors.put_unwind_info = PutUnwindInfo;
    accessors.get_dyn_info_list_addr = GetDynInfoListAddr;
    accessors.access_mem = AccessMem;
    accessors.access_reg = AccessReg;
    accessors.access_fpreg = AccessFpReg;
    accessors.resume = Resume;
    accessors.get_proc_name = GetProcName;
    as = unw_create_addr_space(&accessors, /*byteorder=*/0);
    // Our find_proc_info answers from tables already in memory (converted
    // FDEs are cached by Context); libunwind's own cache would only add
    // state that a hostile, changing target could make inconsistent.
    if (as != nullptr) unw_set_caching_policy(as, UNW_CACHE_NONE);
  }
  ~AddressSpace() {
    if (as != nullptr) unw_destroy_addr_space(as);
  }
};

bool PlausiblePc(uint64_t pc) { return pc != 0 && pc < kUserAddressLimit; }

}  // namespace

const char* UnwindMethodName(UnwoundFrame::Method method) {
  switch (method) {
    case UnwoundFrame::Method::kRegisters: return "registers";
    case UnwoundFrame::Method::kNativeCfi: return "native-cfi";
    case UnwoundFrame::Method::kJitCfi: return "jit-cfi";
    case UnwoundFrame::Method::kFramePointer: return "frame-pointer";
  }
  return "?";
}

struct StackUnwinder::Impl {
  Impl(Memory& m, const std::vector<MapEntry>& maps, const JitSnapshot& jit, const UnwindOptions& o)
      : memory(m), options(o), context(m, maps, jit, o) {}
  Memory& memory;
  UnwindOptions options;
  Context context;
  AddressSpace space;
};

StackUnwinder::StackUnwinder(Memory& memory, const std::vector<MapEntry>& maps, const JitSnapshot& jit,
                             const UnwindOptions& options)
    : impl_(std::make_unique<Impl>(memory, maps, jit, options)) {}

StackUnwinder::~StackUnwinder() = default;

UnwindResult StackUnwinder::Unwind(const Registers& regs) {
  Memory& memory = impl_->memory;
  const UnwindOptions& options = impl_->options;
  Context& context = impl_->context;
  AddressSpace& space = impl_->space;
  UnwindResult result;
  std::vector<UnwoundFrame>& frames = result.frames;
  result.stop_reason = "frame limit";
  if (options.max_frames == 0) return result;
  context.regs = regs;
  frames.push_back(UnwoundFrame{regs.rip, regs.rsp, false, UnwoundFrame::Method::kRegisters});
  if (space.as == nullptr) {
    result.stop_reason = "libunwind cannot create an address space";
    return result;
  }
  unw_cursor_t cursor;
  if (unw_init_remote(&cursor, space.as, &context) < 0) {
    result.stop_reason = "libunwind rejects the registers";
    return result;
  }
  int signal_frames = 0;
  while (frames.size() < options.max_frames) {
    UnwoundFrame& current = frames.back();
    if (!PlausiblePc(current.pc)) {
      result.stop_reason = "pc " + HexAddress(current.pc) + " is not a user-space address";
      break;
    }
    context.found_any = false;
    unw_proc_info_t pi;
    // x86-64 libunwind fabricates a result when there is no CFI, so whether
    // CFI exists is whether our find_proc_info answered.
    bool have_cfi = unw_get_proc_info(&cursor, &pi) == 0 && context.found_any;
    UnwoundFrame::Method method = context.found;
    bool signal = unw_is_signal_frame(&cursor) > 0;
    current.signal_frame = signal;
    if (signal) signal_frames++;
    // Kept for the frame-pointer fallback: a failed step may leave the
    // cursor half-way into the caller.
    unw_word_t frame_rbp = context.regs.rbp;
    unw_get_reg(&cursor, UNW_X86_64_RBP, &frame_rbp);
    if (have_cfi || signal) {
      int step = unw_step(&cursor);
      if (step == 0) {  // CFI marks the outermost frame (_start, clone)
        result.complete = true;
        result.stop_reason = "outermost frame";
        break;
      }
      if (step > 0) {
        unw_word_t ip = 0, sp = 0;
        unw_get_reg(&cursor, UNW_REG_IP, &ip);
        unw_get_reg(&cursor, UNW_REG_SP, &sp);
        bool sp_ok = sp > current.sp || (signal && signal_frames <= kMaxSignalFrames && sp != current.sp);
        if (!PlausiblePc(ip)) {
          // An undefined return address (0) is how some outermost frames end.
          result.complete = ip == 0;
          result.stop_reason = ip == 0 ? "outermost frame" : "return address " + HexAddress(ip) + " is not code";
          break;
        }
        if (sp_ok) {
          frames.push_back(UnwoundFrame{ip, sp, false, have_cfi ? method : UnwoundFrame::Method::kNativeCfi});
          continue;
        }
      }
      // The step failed or went nowhere: try the frame pointer of this frame.
    }
    // Frame-pointer step from the current frame's rbp. The other registers
    // libunwind holds (callee-saved ones restored by earlier CFI steps) seed
    // the restarted cursor: possibly stale, as in any frame-pointer unwind.
    for (unw_regnum_t reg = UNW_X86_64_RAX; reg <= UNW_X86_64_RIP; reg++) {
      unw_word_t v = 0;
      if (unw_get_reg(&cursor, reg, &v) == 0) *RegisterSlot(context.regs, reg) = v;
    }
    uint64_t rbp = frame_rbp;
    std::string why = have_cfi ? "the CFI step at " + HexAddress(current.pc) + " failed" : "no CFI for " + HexAddress(current.pc);
    if (rbp % sizeof(uint64_t) != 0 || rbp < current.sp || rbp >= kUserAddressLimit) {
      result.stop_reason = why + " and rbp " + HexAddress(rbp) + " is not a frame pointer";
      break;
    }
    uint64_t saved[2];
    if (!memory.ReadFully(rbp, saved, sizeof(saved))) {
      result.stop_reason = why + " and the frame at rbp " + HexAddress(rbp) + " is unreadable";
      break;
    }
    uint64_t new_sp = rbp + kFramePointerFrameSize;
    if (!PlausiblePc(saved[1]) || new_sp <= current.sp) {
      result.stop_reason = why + " and the frame at rbp " + HexAddress(rbp) + " holds no return address";
      break;
    }
    frames.push_back(UnwoundFrame{saved[1], new_sp, false, UnwoundFrame::Method::kFramePointer});
    // Restart libunwind at the recovered frame: pc, sp and rbp are known.
    context.regs.rip = saved[1];
    context.regs.rsp = new_sp;
    context.regs.rbp = saved[0];
    if (unw_init_remote(&cursor, space.as, &context) < 0) {
      result.stop_reason = "libunwind rejects the registers recovered at " + HexAddress(saved[1]);
      break;
    }
  }
  return result;
}

UnwindResult UnwindStackDetailed(Memory& memory, const std::vector<MapEntry>& maps, const JitSnapshot& jit,
                                 const Registers& regs, const UnwindOptions& options) {
  StackUnwinder unwinder(memory, maps, jit, options);
  return unwinder.Unwind(regs);
}

Result<std::vector<UnwoundFrame>> UnwindStack(Memory& memory, const std::vector<MapEntry>& maps, const JitSnapshot& jit,
                                              const Registers& regs, const UnwindOptions& options) {
  UnwindResult result = UnwindStackDetailed(memory, maps, jit, regs, options);
  if (result.frames.empty() && options.max_frames > 0) return Error{result.stop_reason};
  return std::move(result.frames);
}

}  // namespace jitscope
