// Writes the ELF symbol files that describe JIT code to debuggers, unwinders and
// perf ("mini debug info"), and reads them back to prove them right.
//
// The writers are hand-written rather than built on libelf or an LLVM-style
// object writer: they run in-process on the JIT's compiler thread for every
// compiled function (as ART's and LuaJIT's do), so each call computes offsets
// arithmetically and appends into one vector with no other allocation.
//
// Layout of a mini file (ELF64 little-endian, ET_DYN, no program headers):
//   [0] null  [1] .text (NOBITS, spans all codes)  [2] .symtab  [3] .strtab
//   [4] .debug_frame (one CIE, one FDE per code)  full mode: .debug_abbrev,
//   .debug_info, .debug_line, .debug_str  then .shstrtab.
// Several codes in one file ("packing") share the CIE; symbols and FDEs are
// sorted by address.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "debuginfo/code_event.h"

namespace jitscope {

// A whole ELF file; empty when the input cannot be described (see
// ValidateCodeInfo) or compression failed.
using ElfImage = std::vector<uint8_t>;

// Section of our mini debug info holding each function's CodeTier: one byte
// per .symtab entry, in symbol order, after the null symbol.
inline constexpr const char* kTierSectionName = ".jitscope.tier";

inline constexpr uint16_t kElfMachineX86_64 = 62;  // EM_X86_64

inline constexpr uint32_t kDefaultXzPreset = 0;

struct ElfWriterOptions {
  // Only x86-64 frame rows exist today; the field keeps AArch64 possible.
  uint16_t machine = kElfMachineX86_64;
  // Adds .debug_info/.debug_abbrev/.debug_line/.debug_str (one compile unit per
  // distinct CodeInfo::source). Ignored by WriteCompressedDebugInfo.
  bool full = false;
  // DW_AT_comp_dir of full-mode compile units: where gdb resolves relative
  // source names. Empty = the process's working directory.
  std::string comp_dir;
  // liblzma preset for WriteCompressedDebugInfo (0..9). 0 (hash-chain match
  // finder, fast mode): on the VM's packed groups (7-21 KiB, one or two
  // independent 16 KiB blocks) it compresses 4-5x faster than 9 and the
  // output is no larger (7.3% vs 7.4% of the input; see docs/performance.md):
  // the blocks are too small for 9's binary-tree finder and optimal parsing
  // to find anything 0 misses.
  uint32_t xz_preset = kDefaultXzPreset;
};

// Checks one code against what the writers require (frame rows sorted and
// first at offset 0, offsets representable, a name). `error` names the code.
bool ValidateCodeInfo(const CodeInfo& code, const ElfWriterOptions& opts, std::string* error);

// One mini (or, with opts.full, full) ELF file for all `codes`.
ElfImage WriteMiniDebugInfo(const std::vector<const CodeInfo*>& codes, const ElfWriterOptions& opts);

// What packing needs of a function, with its CFA program encoded once: a
// range is rebuilt several times (packed, then compressed, then after frees),
// and re-encoding every FDE each time was 3-4% of a VM profile.
// The name and the program share one buffer inside the object, so that with
// its shared_ptr (make_shared) a function costs one allocation: names of
// 20-30 bytes and programs of ~40 are beyond std::string's and
// std::vector's inline capacity, and three small blocks per compiled
// function were fresh pages on the compiler thread and, at exit, glibc's
// malloc_consolidate (~0.5% of a 10,000-function jitvm run).
class PreparedCode {
 public:
  uint64_t address = 0;
  uint64_t size = 0;
  CodeTier tier = CodeTier::kBaseline;
  bool has_fde = false;  // frame rows exist

  PreparedCode() = default;
  PreparedCode(const PreparedCode& other) { *this = other; }
  PreparedCode& operator=(const PreparedCode& other);

  std::string_view name() const { return {reinterpret_cast<const char*>(bytes()), name_size_}; }
  // EncodeEhFrameProgram's output (the same program goes into .debug_frame).
  const uint8_t* cfa_program() const { return bytes() + name_size_; }
  size_t cfa_program_size() const { return program_size_; }
  void Set(std::string_view name, const uint8_t* program, size_t program_size);

 private:
  static constexpr size_t kInline = 96;
  const uint8_t* bytes() const { return heap_ ? heap_.get() : inline_; }
  uint32_t name_size_ = 0;
  uint32_t program_size_ = 0;
  std::unique_ptr<uint8_t[]> heap_;  // when name + program exceed kInline
  uint8_t inline_[kInline];
};
// False (and `out` untouched) when the code cannot be described (ValidateCodeInfo).
bool PrepareCode(const CodeInfo& code, const ElfWriterOptions& opts, PreparedCode* out);
// The same files as WriteMiniDebugInfo (without full mode) and
// WriteCompressedDebugInfo, byte for byte, from prepared codes.
ElfImage WritePreparedMiniDebugInfo(const std::vector<const PreparedCode*>& codes, const ElfWriterOptions& opts);
// WritePreparedMiniDebugInfo({&code}) into *out, reusing its capacity: a
// single-function file per compiled function without an allocation. On
// failure *out is left empty.
bool WritePreparedMiniDebugInfoInto(const PreparedCode& code, const ElfWriterOptions& opts, ElfImage* out);
ElfImage WritePreparedCompressedDebugInfo(const std::vector<const PreparedCode*>& codes, const ElfWriterOptions& opts);

// The prepared writers above lay the file out first and fill it with
// memcpys from a per-machine template (every compiled function gets a
// single-function file on the compiler thread; the general writer's vector
// appends, byte pushes and section bookkeeping were ~1 us of it). The same
// single-function file straight into caller memory: SingleMiniDebugInfoSize
// bytes (0 for an unsupported machine), all of which WriteSingleMiniDebugInfo
// fills (padding included, whatever was there before).
size_t SingleMiniDebugInfoSize(const PreparedCode& code, uint16_t machine);
void WriteSingleMiniDebugInfo(const PreparedCode& code, uint16_t machine, uint8_t* out);

// ART's compressed form: the mini file (.symtab + .debug_frame) xz-compressed
// in independent 16 KiB LZMA2 blocks into .gnu_debugdata of an outer file that
// holds only .text (NOBITS) so a reader knows the range without decompressing.
ElfImage WriteCompressedDebugInfo(const std::vector<const CodeInfo*>& codes, const ElfWriterOptions& opts);

// The unwinding data of perf's jitdump JIT_CODE_UNWINDING_INFO record:
// .eh_frame (CIE "zR", pcrel|sdata4 FDE pointers, zero terminator) followed by
// .eh_frame_hdr (version 1 with a binary search table). perf inject --jit puts
// these bytes at AlignUp(code_size, 8) after the code and maps them with it.
struct EhFrameImage {
  std::vector<uint8_t> bytes;     // empty on failure
  uint64_t eh_frame_address = 0;  // where bytes[0] is assumed to live
  uint64_t unwinding_size = 0;    // record field: all of `bytes`
  uint64_t eh_frame_hdr_size = 0; // record field: the trailing .eh_frame_hdr
  uint64_t mapped_size = 0;       // record field: bytes mapped after the code
};

// The code lives at `load_address` (usually code.address); the unwind data is
// assumed at load_address + AlignUp(code.size, 8), perf's placement.
EhFrameImage WriteEhFrameWithHdr(const CodeInfo& code, uint64_t load_address,
                                 uint16_t machine = kElfMachineX86_64);
// The same with the unwind data at an arbitrary address within 2 GiB of the
// code (e.g. a copy handed to __register_frame).
EhFrameImage WriteEhFrameWithHdrAt(const CodeInfo& code, uint64_t load_address,
                                   uint64_t eh_frame_address, uint16_t machine = kElfMachineX86_64);

// An .eh_frame table for many functions, as __register_frame takes it: one
// CIE, one FDE per function (pc-relative, so the bytes are built for the
// address they will live at), and a zero terminator. Each function's CFA
// program is encoded once (EncodeEhFrameProgram) and reused whenever the table
// is rebuilt. Returns an empty vector if a function is more than 2 GiB away
// from the table or its frame description is invalid.
struct EhFrameTableEntry {
  uint64_t address = 0;
  uint64_t size = 0;
  std::vector<uint8_t> program;  // EncodeEhFrameProgram's output
};
// Empty when the description is invalid or has no rows (no FDE needed).
std::vector<uint8_t> EncodeEhFrameProgram(const CodeInfo& code, uint16_t machine = kElfMachineX86_64);
// The exact size WriteEhFrameTable will produce (0 for an unknown machine).
size_t EhFrameTableSize(const std::vector<const EhFrameTableEntry*>& entries,
                        uint16_t machine = kElfMachineX86_64);
std::vector<uint8_t> WriteEhFrameTable(const std::vector<const EhFrameTableEntry*>& entries,
                                       uint64_t eh_frame_address, uint16_t machine = kElfMachineX86_64);

// A synthetic ELF laid out as perf inject's jitted-PID-N.so: .text NOBITS at
// load_address, .eh_frame and .eh_frame_hdr at their addresses, the symbol.
// For tools that only read files (llvm-dwarfdump --eh-frame, libdw).
ElfImage WrapEhFrameInElf(const CodeInfo& code, uint64_t load_address, const EhFrameImage& eh,
                          uint16_t machine = kElfMachineX86_64);

// The writer's own reader (libelf + libdw; link libdw to call these). Checks
// the ELF structure, every symbol, and the CFI at EVERY code offset against the
// FrameRow covering it (CFA register and offset, each saved register); in full
// mode also the line table and subprograms; a .gnu_debugdata file is
// decompressed and its inner file verified.
bool VerifyMiniDebugInfo(const std::vector<uint8_t>& bytes, const std::vector<const CodeInfo*>& codes,
                         std::string* error);
// Checks an EhFrameImage (wrapped with WrapEhFrameInElf, read through
// .eh_frame_hdr by libdw) the same way.
bool VerifyEhFrameWithHdr(const EhFrameImage& eh, const CodeInfo& code, uint64_t load_address,
                          std::string* error);

}  // namespace jitscope
