/*
 * jitscope/jit_debug.h — the GDB JIT interface as jitscope writes and reads it.
 *
 * This header is the binary interface that outside tools (gdb, lldb,
 * libunwindstack, simpleperf, jitscope) read from a running process. It uses
 * ART's "Android2" extension of the GDB JIT interface: seqlocks and
 * timestamps that let another process read the list without stopping the
 * writer. Every layout below is pinned with static_assert; changing one is an
 * ABI break for every reader.
 *
 * Symbols (C linkage, default visibility, in the dynamic symbol table):
 *   __jit_debug_descriptor        struct jit_descriptor, statically initialised
 *   __jit_debug_register_code     noinline, never folded; gdb breaks on it
 *   __jit_debug_register_code_ptr points at it; tools may overwrite it, so
 *                                 writers call through the pointer
 *
 * Writer protocol (one writer at a time, serialised by a mutex):
 *   W1. Entries are recycled through a free list and never freed or
 *       unmapped, so a reader holding a stale entry address still reads a
 *       seqlock, never random memory.
 *   W2. A new entry starts with seqlock 1 (odd = invalid). Its fields are
 *       filled while unlinked, then its seqlock is made even with release
 *       ordering before it is linked.
 *   W3. Every change of the list is bracketed by descriptor seqlock
 *       increments: odd while changing, even at rest.
 *   W4. Forward pointers (entry.next, descriptor.first_entry) are stored
 *       atomically with release ordering; `next` always points at a valid
 *       entry or is NULL.
 *   W5. An entry is unlinked before its seqlock is made odd again.
 *   W6. A replacement entry is linked before the entries it replaces are
 *       unlinked, so a reader never sees a gap in coverage.
 *   W7. descriptor.timestamp is CLOCK_MONOTONIC nanoseconds of the last
 *       action and strictly increasing; a registered entry gets the same
 *       value as its timestamp, so entry timestamps are unique.
 *   W8. After every change action_flag and relevant_entry describe it and
 *       __jit_debug_register_code_ptr() is called (gdb/lldb act there).
 *
 * Reader protocol (another process, through process_vm_readv or similar):
 *   R1. Copy the descriptor. If its seqlock is odd, a change is in progress:
 *       wait briefly and retry.
 *   R2. Walk first_entry/next copying each entry. Never use a field before
 *       verification; bound the walk (entry count limit, loop detection).
 *   R3. Re-read the descriptor seqlock. If it changed, the copy may be torn:
 *       discard it and retry from R1, with a bounded number of attempts.
 *   R4. To use an entry's symbol file later, copy it, then re-read the
 *       entry's seqlock: if it differs from the value seen in R2 the entry
 *       was recycled and the copy is discarded.
 *   Readers accept three variants: "Android2" (this layout), "Android1"
 *   (descriptor seqlock, 40-byte entries without a seqlock) and plain GDB
 *   version 1 (no magic, no seqlocks: best effort only).
 *
 * Only the 64-bit layout is defined.
 */
#ifndef JITSCOPE_JIT_DEBUG_H_
#define JITSCOPE_JIT_DEBUG_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* action_flag values. */
enum {
  JIT_NOACTION = 0,
  JIT_REGISTER_FN = 1,
  JIT_UNREGISTER_FN = 2,
};

#define JITSCOPE_JIT_DEBUG_VERSION 1
#define JITSCOPE_JIT_DEBUG_MAGIC_ANDROID2 "Android2"
#define JITSCOPE_JIT_DEBUG_MAGIC_ANDROID1 "Android1"

/* Accessed with atomics by writers that follow the protocol above. */
struct jit_code_entry {
  struct jit_code_entry* next; /* 0: atomic, release stores */
  struct jit_code_entry* prev; /* 8: readers do not use it */
  const char* symfile_addr;    /* 16: in-memory ELF file */
  uint64_t symfile_size;       /* 24 */
  uint64_t timestamp;          /* 32: CLOCK_MONOTONIC ns of registration */
  uint32_t seqlock;            /* 40: atomic; even = valid, odd = invalid */
  uint32_t padding;            /* 44: keeps the size 48 on every compiler */
};

struct jit_descriptor {
  uint32_t version;                     /* 0: 1 */
  uint32_t action_flag;                 /* 4: JIT_NOACTION/REGISTER/UNREGISTER */
  struct jit_code_entry* relevant_entry; /* 8 */
  struct jit_code_entry* first_entry;   /* 16: atomic, release stores */
  char magic[8];                        /* 24: "Android2", not NUL-terminated */
  uint32_t flags;                       /* 32: 0 */
  uint32_t sizeof_descriptor;           /* 36: 56 */
  uint32_t sizeof_entry;                /* 40: 48 */
  uint32_t seqlock;                     /* 44: atomic; odd while changing */
  uint64_t timestamp;                   /* 48: CLOCK_MONOTONIC ns of last action */
};

/* Sizes of the older variants, for readers. */
#define JITSCOPE_JIT_DEBUG_ENTRY_SIZE_V1 32       /* plain GDB: next..symfile_size */
#define JITSCOPE_JIT_DEBUG_ENTRY_SIZE_ANDROID1 40 /* + timestamp */
#define JITSCOPE_JIT_DEBUG_ENTRY_SIZE_ANDROID2 48 /* + seqlock, padded */
#define JITSCOPE_JIT_DEBUG_DESCRIPTOR_SIZE_V1 24  /* version..first_entry */
#define JITSCOPE_JIT_DEBUG_DESCRIPTOR_SIZE_ANDROID 56

extern struct jit_descriptor __jit_debug_descriptor;
void __jit_debug_register_code(void);
extern void (*__jit_debug_register_code_ptr)(void);

#ifdef __cplusplus
} /* extern "C" */
#define JITSCOPE_STATIC_ASSERT static_assert
#else
#define JITSCOPE_STATIC_ASSERT _Static_assert
#endif

JITSCOPE_STATIC_ASSERT(sizeof(void*) == 8, "only the 64-bit layout is defined");
JITSCOPE_STATIC_ASSERT(offsetof(struct jit_code_entry, next) == 0, "entry.next");
JITSCOPE_STATIC_ASSERT(offsetof(struct jit_code_entry, prev) == 8, "entry.prev");
JITSCOPE_STATIC_ASSERT(offsetof(struct jit_code_entry, symfile_addr) == 16, "entry.symfile_addr");
JITSCOPE_STATIC_ASSERT(offsetof(struct jit_code_entry, symfile_size) == 24, "entry.symfile_size");
JITSCOPE_STATIC_ASSERT(offsetof(struct jit_code_entry, timestamp) == 32, "entry.timestamp");
JITSCOPE_STATIC_ASSERT(offsetof(struct jit_code_entry, seqlock) == 40, "entry.seqlock");
JITSCOPE_STATIC_ASSERT(sizeof(struct jit_code_entry) == JITSCOPE_JIT_DEBUG_ENTRY_SIZE_ANDROID2,
                       "entry size");
JITSCOPE_STATIC_ASSERT(offsetof(struct jit_descriptor, version) == 0, "descriptor.version");
JITSCOPE_STATIC_ASSERT(offsetof(struct jit_descriptor, action_flag) == 4, "descriptor.action_flag");
JITSCOPE_STATIC_ASSERT(offsetof(struct jit_descriptor, relevant_entry) == 8,
                       "descriptor.relevant_entry");
JITSCOPE_STATIC_ASSERT(offsetof(struct jit_descriptor, first_entry) == 16, "descriptor.first_entry");
JITSCOPE_STATIC_ASSERT(offsetof(struct jit_descriptor, magic) == 24, "descriptor.magic");
JITSCOPE_STATIC_ASSERT(offsetof(struct jit_descriptor, flags) == 32, "descriptor.flags");
JITSCOPE_STATIC_ASSERT(offsetof(struct jit_descriptor, sizeof_descriptor) == 36,
                       "descriptor.sizeof_descriptor");
JITSCOPE_STATIC_ASSERT(offsetof(struct jit_descriptor, sizeof_entry) == 40, "descriptor.sizeof_entry");
JITSCOPE_STATIC_ASSERT(offsetof(struct jit_descriptor, seqlock) == 44, "descriptor.seqlock");
JITSCOPE_STATIC_ASSERT(offsetof(struct jit_descriptor, timestamp) == 48, "descriptor.timestamp");
JITSCOPE_STATIC_ASSERT(sizeof(struct jit_descriptor) == JITSCOPE_JIT_DEBUG_DESCRIPTOR_SIZE_ANDROID,
                       "descriptor size");

#undef JITSCOPE_STATIC_ASSERT

/*
 * ---------------------------------------------------------------------------
 * C API for other JITs: describe code, jitscope writes and registers the
 * mini debug info (symbols + exact CFI) with the descriptor above.
 *
 *   jit_debug_context* ctx = jit_debug_context_create(NULL);
 *   jit_debug_add_code(ctx, &code);      after the code is executable
 *   jit_debug_remove_code(ctx, address); before its memory is reused
 *   jit_debug_context_destroy(ctx);      unregisters what is left
 *
 * Link jitscope_debuginfo (C++; link with a C++ driver or add -lstdc++).
 * Every function is thread-safe and copies what it needs from its arguments.
 * Functions returning int return 0 on success or a negative errno value:
 *   -EINVAL  NULL or nonsense arguments (nothing changes)
 *   -EEXIST  add: code at this address is already registered
 *   -ENOENT  remove: no code registered at this address
 *   -ENOMEM  out of memory
 *   -ENOSPC  frame helpers: the row array is too small
 * Only x86-64 is described (DWARF register numbers below).
 * ---------------------------------------------------------------------------
 */

#ifdef __cplusplus
extern "C" {
#endif

/* x86-64 DWARF register numbers (System V psABI). */
enum {
  JIT_DEBUG_REG_RAX = 0, JIT_DEBUG_REG_RDX = 1, JIT_DEBUG_REG_RCX = 2, JIT_DEBUG_REG_RBX = 3,
  JIT_DEBUG_REG_RSI = 4, JIT_DEBUG_REG_RDI = 5, JIT_DEBUG_REG_RBP = 6, JIT_DEBUG_REG_RSP = 7,
  JIT_DEBUG_REG_R8 = 8, JIT_DEBUG_REG_R9 = 9, JIT_DEBUG_REG_R10 = 10, JIT_DEBUG_REG_R11 = 11,
  JIT_DEBUG_REG_R12 = 12, JIT_DEBUG_REG_R13 = 13, JIT_DEBUG_REG_R14 = 14, JIT_DEBUG_REG_R15 = 15,
  JIT_DEBUG_REG_RIP = 16, /* the return address column */
  JIT_DEBUG_NUM_REGS = 17,
};

/* When packed groups are rebuilt xz-compressed (ART's policy by default). */
typedef enum jit_debug_compress {
  JIT_DEBUG_COMPRESS_OFF = 0,
  JIT_DEBUG_COMPRESS_AFTER_FREE = 1, /* after code is removed; not the newest range */
  JIT_DEBUG_COMPRESS_ALWAYS = 2,     /* every packed group */
} jit_debug_compress;

typedef struct jit_debug_options {
  int full;                    /* nonzero: DWARF line tables (never packed); default 0 */
  int pack;                    /* nonzero: merge entries per code range; default 1 */
  jit_debug_compress compress; /* default JIT_DEBUG_COMPRESS_AFTER_FREE */
  int pack_every;              /* pack after this many new codes; 0 = 64 */
  int range_bits;              /* packing range is 2^range_bits bytes; 0 = 16 (64 KiB) */
  const char* comp_dir;        /* full mode: where relative source names resolve; NULL = cwd */
} jit_debug_options;

/* Fills *opts with the defaults used for a NULL opts. */
void jit_debug_options_init(jit_debug_options* opts);

/* One register saved in the caller's frame slot: at CFA + cfa_offset. */
typedef struct jit_debug_saved_reg {
  uint8_t dwarf_reg;  /* JIT_DEBUG_REG_* */
  int32_t cfa_offset; /* negative multiple of 8, e.g. -16 after `push rbp` */
} jit_debug_saved_reg;

#define JIT_DEBUG_MAX_SAVED_REGS 16

/*
 * The complete frame state from code_offset up to the next row's offset (not
 * a delta): CFA = cfa_register + cfa_offset, and the registers listed are
 * saved at CFA + their offset; all others hold the caller's value. The
 * return address is at CFA - 8 unless JIT_DEBUG_REG_RIP is listed. Describe
 * every instruction boundary where the state changes (each push, pop, stack
 * adjustment, frame-pointer setup, each epilogue and the state after it).
 * The state at entry is CFA = rsp + 8 with nothing saved; it applies before
 * the first row if that row is not at offset 0.
 */
typedef struct jit_debug_frame_row {
  uint32_t code_offset;  /* from the code's start; rows strictly increasing */
  uint8_t cfa_register;  /* JIT_DEBUG_REG_RSP or JIT_DEBUG_REG_RBP (any but RIP) */
  int32_t cfa_offset;    /* >= 0, or a negative multiple of 8 */
  uint32_t num_saved;    /* <= JIT_DEBUG_MAX_SAVED_REGS, each register once */
  jit_debug_saved_reg saved[JIT_DEBUG_MAX_SAVED_REGS];
} jit_debug_frame_row;

/* Source line of the code from code_offset up to the next entry's offset. */
typedef struct jit_debug_line {
  uint32_t code_offset; /* strictly increasing, < size */
  uint32_t line;        /* 1-based; 0 = unknown */
} jit_debug_line;

typedef struct jit_debug_code {
  uint64_t address;                     /* start of the machine code, nonzero */
  uint64_t size;                        /* bytes, nonzero, < 4 GiB */
  const char* name;                     /* symbol name, non-empty; shown in backtraces */
  const char* source_file;              /* optional (NULL): full mode's compile unit */
  uint32_t first_line;                  /* line where the function is defined; 0 = unknown */
  const jit_debug_frame_row* frame_rows; /* NULL/0: no CFI (debuggers cannot unwind it) */
  size_t num_frame_rows;
  const jit_debug_line* lines;          /* optional; used in full mode */
  size_t num_lines;
} jit_debug_code;

typedef struct jit_debug_stats {
  uint64_t entries;          /* descriptor entries registered by this context now */
  uint64_t functions;        /* codes registered now */
  uint64_t unpacked_bytes;   /* symbol-file bytes, by kind */
  uint64_t packed_bytes;
  uint64_t compressed_bytes;
  uint64_t packs;            /* group rebuilds so far */
  uint64_t compressions;
} jit_debug_stats;

typedef struct jit_debug_context jit_debug_context;

/* opts may be NULL (defaults). Returns NULL on bad options or no memory.
 * Contexts are independent but share the process's one descriptor. */
jit_debug_context* jit_debug_context_create(const jit_debug_options* opts);
/* Unregisters all its code. NULL is a no-op. */
void jit_debug_context_destroy(jit_debug_context* ctx);

/* Registers one piece of code. Call it once the code is in place (debuggers
 * may read the symbol file at once); the code bytes themselves are not read. */
int jit_debug_add_code(jit_debug_context* ctx, const jit_debug_code* code);
/* address: as given to jit_debug_add_code. */
int jit_debug_remove_code(jit_debug_context* ctx, uint64_t address);
/* All code is going away (the JIT's whole cache is flushed, or it shuts
 * down): unregisters every entry at once, without the per-function removes
 * and repacks. The context stays usable. Returns 0, -EINVAL for NULL, or
 * -ENOMEM (out of memory midway: the entries not yet unregistered stay). */
int jit_debug_remove_all_code(jit_debug_context* ctx);

/* Changes packing and compression for what is added or removed next. */
int jit_debug_set_policy(jit_debug_context* ctx, int pack, jit_debug_compress compress);
/* Applies the compression policy now (e.g. after a code GC). */
void jit_debug_compress_now(jit_debug_context* ctx);
int jit_debug_get_stats(jit_debug_context* ctx, jit_debug_stats* out);

/*
 * Frame description helpers for common prologue shapes. Each fills rows[]
 * and returns the number of rows written, -ENOSPC if capacity is too small,
 * or -EINVAL if the offsets are not increasing. Offsets are of the
 * instruction *after* the one that changes the frame. Pass 0 as the last
 * offset when the code has no epilogue to describe.
 */

/* The entry state (CFA = rsp + 8, nothing saved) at code_offset. */
void jit_debug_frame_row_init(jit_debug_frame_row* row, uint32_t code_offset);
/* Adds "reg saved at CFA + cfa_offset" to a row; -EINVAL on nonsense or a full row. */
int jit_debug_frame_row_save(jit_debug_frame_row* row, uint8_t dwarf_reg, int32_t cfa_offset);

/* push rbp; mov rbp, rsp; ...body...; pop rbp (or leave); ret — up to 4 rows. */
#define JIT_DEBUG_FRAME_PUSH_RBP_ROWS 4
int jit_debug_frame_push_rbp_mov_rbp(jit_debug_frame_row* rows, size_t capacity, uint32_t after_push,
                                     uint32_t after_mov, uint32_t after_pop);

/* sub rsp, frame_bytes; ...body...; add rsp, frame_bytes; ret — up to 3 rows. */
#define JIT_DEBUG_FRAME_SUB_RSP_ROWS 3
int jit_debug_frame_sub_rsp(jit_debug_frame_row* rows, size_t capacity, uint32_t after_sub, uint32_t frame_bytes,
                            uint32_t after_add);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* JITSCOPE_JIT_DEBUG_H_ */
