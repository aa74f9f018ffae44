// The C API for other JITs (jitscope/jit_debug.h): checks the caller's plain
// description of a piece of code, converts it to a CodeInfo and hands it to a
// JitDebugContext on the process-wide descriptor writer. Nothing here may
// throw into C callers or trust their pointers beyond what the header allows.
#include <cerrno>
#include <climits>
#include <cstring>
#include <mutex>
#include <new>
#include <string>

#include "debuginfo/code_event.h"
#include "debuginfo/elf_writer.h"
#include "debuginfo/jit_debug_context.h"
#include "debuginfo/jit_descriptor_writer.h"
#include "jitscope/jit_debug.h"

#define JITSCOPE_EXPORT __attribute__((visibility("default")))

struct jit_debug_context {
  jitscope::JitDebugContext impl;
  // SetOptions replaces all options: set_policy needs the others as they were.
  std::mutex options_mu;
  jitscope::JitDebugOptions options;

  explicit jit_debug_context(const jitscope::JitDebugOptions& o)
      : impl(&jitscope::GlobalJitDescriptorWriter(), o), options(o) {}
};

namespace {

constexpr int kDefaultPackEvery = 64;
constexpr int kDefaultRangeBits = 16;
// Packing ranges beyond 2^40 bytes would put all code of a process in one
// group anyway; larger shifts would overflow.
constexpr int kMaxRangeBits = 40;
// x86-64 saved-register slots are 8-byte aligned (the CIE's data alignment).
constexpr int32_t kSlotSize = 8;
constexpr int32_t kEntryCfaOffset = 8;

bool ValidCompress(jit_debug_compress c) {
  return c == JIT_DEBUG_COMPRESS_OFF || c == JIT_DEBUG_COMPRESS_AFTER_FREE || c == JIT_DEBUG_COMPRESS_ALWAYS;
}

jitscope::CompressPolicy ToPolicy(jit_debug_compress c) {
  switch (c) {
    case JIT_DEBUG_COMPRESS_OFF: return jitscope::CompressPolicy::kOff;
    case JIT_DEBUG_COMPRESS_ALWAYS: return jitscope::CompressPolicy::kAlways;
    case JIT_DEBUG_COMPRESS_AFTER_FREE: break;
  }
  return jitscope::CompressPolicy::kAfterFree;
}

bool ToOptions(const jit_debug_options& in, jitscope::JitDebugOptions* out) {
  if (!ValidCompress(in.compress) || in.pack_every < 0 || in.range_bits < 0 || in.range_bits > kMaxRangeBits)
    return false;
  out->full = in.full != 0;
  out->pack = in.pack != 0;
  out->compress = ToPolicy(in.compress);
  out->pack_every = in.pack_every == 0 ? kDefaultPackEvery : in.pack_every;
  out->range_bits = in.range_bits == 0 ? kDefaultRangeBits : in.range_bits;
  out->comp_dir = in.comp_dir ? in.comp_dir : "";
  return true;
}

bool ValidSlot(int32_t cfa_offset) {
  return cfa_offset < 0 && cfa_offset % kSlotSize == 0 && cfa_offset >= INT16_MIN;
}

// One caller row to a complete FrameRow; false on anything the CFI writer
// could not express faithfully.
bool ToFrameRow(const jit_debug_frame_row& in, uint64_t code_size, jitscope::FrameRow* out) {
  if (in.code_offset >= code_size) return false;
  if (in.cfa_register >= JIT_DEBUG_NUM_REGS || in.cfa_register == JIT_DEBUG_REG_RIP) return false;
  if (in.cfa_offset < 0 && in.cfa_offset % kSlotSize != 0) return false;
  if (in.num_saved > JIT_DEBUG_MAX_SAVED_REGS) return false;
  out->code_offset = in.code_offset;
  out->cfa_reg = in.cfa_register;
  out->cfa_offset = in.cfa_offset;
  for (uint32_t i = 0; i < in.num_saved; i++) {
    const jit_debug_saved_reg& s = in.saved[i];
    if (s.dwarf_reg >= JIT_DEBUG_NUM_REGS || !ValidSlot(s.cfa_offset)) return false;
    if (out->saved_offset[s.dwarf_reg] != 0) return false;  // listed twice
    out->saved_offset[s.dwarf_reg] = static_cast<int16_t>(s.cfa_offset);
  }
  return true;
}

int ToCodeInfo(const jit_debug_code& in, jitscope::CodeInfo* out) {
  if (in.address == 0 || in.size == 0 || in.size > UINT32_MAX) return -EINVAL;
  if (in.address + in.size < in.address) return -EINVAL;
  if (in.name == nullptr || in.name[0] == '\0') return -EINVAL;
  if (in.num_frame_rows != 0 && in.frame_rows == nullptr) return -EINVAL;
  if (in.num_lines != 0 && in.lines == nullptr) return -EINVAL;
  // More rows than code bytes cannot be strictly increasing; this also
  // bounds the allocations below by the code size.
  if (in.num_frame_rows > in.size || in.num_lines > in.size) return -EINVAL;

  out->address = in.address;
  out->size = in.size;
  out->name = in.name;
  out->source = in.source_file ? in.source_file : "";
  out->first_line = in.first_line;
  out->id = in.address;

  if (in.num_frame_rows != 0) {
    out->frame.rows.reserve(in.num_frame_rows + 1);
    // The writer wants the entry state spelled out as the first row.
    if (in.frame_rows[0].code_offset != 0) out->frame.rows.emplace_back();
    for (size_t i = 0; i < in.num_frame_rows; i++) {
      if (i > 0 && in.frame_rows[i].code_offset <= in.frame_rows[i - 1].code_offset) return -EINVAL;
      jitscope::FrameRow row;
      if (!ToFrameRow(in.frame_rows[i], in.size, &row)) return -EINVAL;
      if (row.cfa_reg == jitscope::kDwRbp) out->frame.uses_frame_pointer = true;
      out->frame.rows.push_back(row);
    }
  }
  out->lines.reserve(in.num_lines);
  for (size_t i = 0; i < in.num_lines; i++) {
    const jit_debug_line& l = in.lines[i];
    if (l.code_offset >= in.size) return -EINVAL;
    if (i > 0 && l.code_offset <= in.lines[i - 1].code_offset) return -EINVAL;
    out->lines.push_back(jitscope::LineEntry{l.code_offset, l.line, 0});
  }

  // The context accepts what its ELF writer later refuses; refuse it here so
  // the caller hears about it.
  std::string error;
  if (!jitscope::ValidateCodeInfo(*out, jitscope::ElfWriterOptions{}, &error)) return -EINVAL;
  return 0;
}

}  // namespace

extern "C" {

JITSCOPE_EXPORT void jit_debug_options_init(jit_debug_options* opts) {
  if (opts == nullptr) return;
  std::memset(opts, 0, sizeof(*opts));
  opts->full = 0;
  opts->pack = 1;
  opts->compress = JIT_DEBUG_COMPRESS_AFTER_FREE;
  opts->pack_every = kDefaultPackEvery;
  opts->range_bits = kDefaultRangeBits;
  opts->comp_dir = nullptr;
}

JITSCOPE_EXPORT jit_debug_context* jit_debug_context_create(const jit_debug_options* opts) {
  jit_debug_options defaults;
  jit_debug_options_init(&defaults);
  jitscope::JitDebugOptions options;
  if (!ToOptions(opts ? *opts : defaults, &options)) return nullptr;
  try {
    return new jit_debug_context(options);
  } catch (...) {
    return nullptr;
  }
}

JITSCOPE_EXPORT void jit_debug_context_destroy(jit_debug_context* ctx) { delete ctx; }

JITSCOPE_EXPORT int jit_debug_add_code(jit_debug_context* ctx, const jit_debug_code* code) {
  if (ctx == nullptr || code == nullptr) return -EINVAL;
  try {
    jitscope::CodeInfo info;
    if (int rc = ToCodeInfo(*code, &info); rc != 0) return rc;
    return ctx->impl.AddCode(info) ? 0 : -EEXIST;
  } catch (const std::bad_alloc&) {
    return -ENOMEM;
  } catch (...) {
    return -EINVAL;
  }
}

JITSCOPE_EXPORT int jit_debug_remove_code(jit_debug_context* ctx, uint64_t address) {
  if (ctx == nullptr) return -EINVAL;
  try {
    return ctx->impl.RemoveCode(address) ? 0 : -ENOENT;
  } catch (const std::bad_alloc&) {
    return -ENOMEM;
  }
}

JITSCOPE_EXPORT int jit_debug_remove_all_code(jit_debug_context* ctx) {
  if (ctx == nullptr) return -EINVAL;
  try {
    ctx->impl.RemoveAllCode();
    return 0;
  } catch (const std::bad_alloc&) {
    return -ENOMEM;  // keeping a spare block failed; what was unregistered stays so
  }
}

JITSCOPE_EXPORT int jit_debug_set_policy(jit_debug_context* ctx, int pack, jit_debug_compress compress) {
  if (ctx == nullptr || !ValidCompress(compress)) return -EINVAL;
  try {
    std::lock_guard<std::mutex> lock(ctx->options_mu);
    ctx->options.pack = pack != 0;
    ctx->options.compress = ToPolicy(compress);
    ctx->impl.SetOptions(ctx->options);
    return 0;
  } catch (const std::bad_alloc&) {
    return -ENOMEM;
  }
}

JITSCOPE_EXPORT void jit_debug_compress_now(jit_debug_context* ctx) {
  if (ctx == nullptr) return;
  try {
    ctx->impl.CompressNow();
  } catch (...) {
    // Compression is an optimisation: the uncompressed entries stay registered.
  }
}

JITSCOPE_EXPORT int jit_debug_get_stats(jit_debug_context* ctx, jit_debug_stats* out) {
  if (ctx == nullptr || out == nullptr) return -EINVAL;
  jitscope::JitDebugStats s = ctx->impl.stats();
  out->entries = s.entries;
  out->functions = s.functions;
  out->unpacked_bytes = s.unpacked_bytes;
  out->packed_bytes = s.packed_bytes;
  out->compressed_bytes = s.compressed_bytes;
  out->packs = s.packs;
  out->compressions = s.compressions;
  return 0;
}

JITSCOPE_EXPORT void jit_debug_frame_row_init(jit_debug_frame_row* row, uint32_t code_offset) {
  if (row == nullptr) return;
  std::memset(row, 0, sizeof(*row));
  row->code_offset = code_offset;
  row->cfa_register = JIT_DEBUG_REG_RSP;
  row->cfa_offset = kEntryCfaOffset;
}

JITSCOPE_EXPORT int jit_debug_frame_row_save(jit_debug_frame_row* row, uint8_t dwarf_reg, int32_t cfa_offset) {
  if (row == nullptr || dwarf_reg >= JIT_DEBUG_NUM_REGS || !ValidSlot(cfa_offset)) return -EINVAL;
  if (row->num_saved >= JIT_DEBUG_MAX_SAVED_REGS) return -EINVAL;
  for (uint32_t i = 0; i < row->num_saved; i++)
    if (row->saved[i].dwarf_reg == dwarf_reg) return -EINVAL;
  row->saved[row->num_saved++] = jit_debug_saved_reg{dwarf_reg, cfa_offset};
  return 0;
}

JITSCOPE_EXPORT int jit_debug_frame_push_rbp_mov_rbp(jit_debug_frame_row* rows, size_t capacity,
                                                     uint32_t after_push, uint32_t after_mov, uint32_t after_pop) {
  if (rows == nullptr || after_push == 0 || after_mov <= after_push) return -EINVAL;
  if (after_pop != 0 && after_pop <= after_mov) return -EINVAL;
  size_t needed = after_pop != 0 ? 4 : 3;
  if (capacity < needed) return -ENOSPC;
  // push rbp: the CFA is 16 above rsp and the caller's rbp sits just below
  // the return address.
  constexpr int32_t kRbpSlot = -16;
  jit_debug_frame_row_init(&rows[0], 0);
  jit_debug_frame_row_init(&rows[1], after_push);
  rows[1].cfa_offset = 16;
  jit_debug_frame_row_save(&rows[1], JIT_DEBUG_REG_RBP, kRbpSlot);
  // mov rbp, rsp: from here on the CFA follows rbp, so the body may move rsp freely.
  jit_debug_frame_row_init(&rows[2], after_mov);
  rows[2].cfa_register = JIT_DEBUG_REG_RBP;
  rows[2].cfa_offset = 16;
  jit_debug_frame_row_save(&rows[2], JIT_DEBUG_REG_RBP, kRbpSlot);
  if (after_pop != 0) jit_debug_frame_row_init(&rows[3], after_pop);
  return static_cast<int>(needed);
}

JITSCOPE_EXPORT int jit_debug_frame_sub_rsp(jit_debug_frame_row* rows, size_t capacity, uint32_t after_sub,
                                            uint32_t frame_bytes, uint32_t after_add) {
  if (rows == nullptr || after_sub == 0 || frame_bytes == 0 ||
      frame_bytes > static_cast<uint32_t>(INT32_MAX - kEntryCfaOffset))
    return -EINVAL;
  if (after_add != 0 && after_add <= after_sub) return -EINVAL;
  size_t needed = after_add != 0 ? 3 : 2;
  if (capacity < needed) return -ENOSPC;
  jit_debug_frame_row_init(&rows[0], 0);
  jit_debug_frame_row_init(&rows[1], after_sub);
  rows[1].cfa_offset = kEntryCfaOffset + static_cast<int32_t>(frame_bytes);
  if (after_add != 0) jit_debug_frame_row_init(&rows[2], after_add);
  return static_cast<int>(needed);
}

}  // extern "C"
