// perf's jitdump file format, version 1 (linux tools/perf/Documentation/
// jitdump-specification.txt; the reader is tools/perf/util/jitdump.c).
//
// Protocol, as `perf inject --jit` consumes it:
//  - The file is named jit-PID.dump, and the process whose pid is in the name
//    mmaps it PROT_EXEC (one page suffices) while `perf record` runs, so the
//    MMAP2 record in perf.data marks it. perf inject reads the whole file when
//    it meets that mark, at inject time, so the content may be written later.
//  - Records are in time order (CLOCK_MONOTONIC ns, `perf record -k 1`).
//  - CODE_DEBUG_INFO and CODE_UNWINDING_INFO apply to the NEXT CODE_LOAD: write
//    them immediately before it.
//  - Each CODE_LOAD becomes jitted-PID-INDEX.so and an MMAP2 of length
//    code_size, or align8(code_size) + mapped_size with unwinding info: that
//    mapping must not cover other live code, or perf clips its map.
//  - Newer perf derives the .so build-id from the code bytes alone (SHA-1),
//    older from /dev/urandom: identical bytes must not be loaded twice.
// All fields are in the writer's byte order; perf detects swapped files by the
// magic.
#pragma once

#include <cstddef>
#include <cstdint>

extern "C" {

struct JitdumpFileHeader {
  uint32_t magic;       // kJitdumpMagic ('JiTD' in the writer's order)
  uint32_t version;     // kJitdumpVersion
  uint32_t total_size;  // sizeof(JitdumpFileHeader)
  uint32_t elf_mach;    // EM_X86_64 = 62
  uint32_t pad1;
  uint32_t pid;
  uint64_t timestamp;   // CLOCK_MONOTONIC ns at creation
  uint64_t flags;       // 0: timestamps are CLOCK_MONOTONIC, not TSC
};

struct JitdumpRecordHeader {
  uint32_t id;          // JitdumpRecordType
  uint32_t total_size;  // whole record, header included
  uint64_t timestamp;
};

enum JitdumpRecordType : uint32_t {
  kJitCodeLoad = 0,
  kJitCodeMove = 1,
  kJitCodeDebugInfo = 2,
  kJitCodeClose = 3,
  kJitCodeUnwindingInfo = 4,
};

// Followed by the NUL-terminated function name and code_size code bytes.
struct JitdumpCodeLoad {
  JitdumpRecordHeader p;
  uint32_t pid;
  uint32_t tid;
  uint64_t vma;
  uint64_t code_addr;
  uint64_t code_size;
  uint64_t code_index;  // unique per load: names the jitted-PID-INDEX.so
};

// Followed by nr_entry JitdumpDebugEntry, each followed by its NUL-terminated
// file name.
struct JitdumpDebugInfo {
  JitdumpRecordHeader p;
  uint64_t code_addr;
  uint64_t nr_entry;
};

struct JitdumpDebugEntry {
  uint64_t addr;  // absolute address of the first instruction of the line
  uint32_t lineno;
  uint32_t discrim;
};

// Followed by unwinding_size bytes: .eh_frame then .eh_frame_hdr (the last
// eh_frame_hdr_size bytes), padded to 8.
struct JitdumpUnwindingInfo {
  JitdumpRecordHeader p;
  uint64_t unwinding_size;
  uint64_t eh_frame_hdr_size;
  uint64_t mapped_size;
};

}  // extern "C"

static_assert(sizeof(JitdumpFileHeader) == 40);
static_assert(offsetof(JitdumpFileHeader, pid) == 20);
static_assert(offsetof(JitdumpFileHeader, timestamp) == 24);
static_assert(sizeof(JitdumpRecordHeader) == 16);
static_assert(sizeof(JitdumpCodeLoad) == 56);
static_assert(offsetof(JitdumpCodeLoad, code_index) == 48);
static_assert(sizeof(JitdumpDebugInfo) == 32);
static_assert(sizeof(JitdumpDebugEntry) == 16);
static_assert(sizeof(JitdumpUnwindingInfo) == 40);

namespace jitscope::perf {
inline constexpr uint32_t kJitdumpMagic = 0x4A695444;
inline constexpr uint32_t kJitdumpVersion = 1;
inline constexpr uint32_t kElfMachineX86_64 = 62;
}  // namespace jitscope::perf
