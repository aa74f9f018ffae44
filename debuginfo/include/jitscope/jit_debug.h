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

#endif /* JITSCOPE_JIT_DEBUG_H_ */
