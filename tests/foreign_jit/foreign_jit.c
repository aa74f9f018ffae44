/*
 * A tiny "JIT" written in plain C that knows nothing of jitscope but its C
 * API (<jitscope/jit_debug.h>): it writes x86-64 machine code by hand for
 *
 *   outer:  push rbx; sub rsp,16; mov ebx,1000; call middle; add eax,ebx;
 *           add rsp,16; pop rbx; ret                   (rows written by hand)
 *   middle: sub rsp,24; call inner; add eax,100; add rsp,24; ret
 *                                                      (frameless helper)
 *   inner:  push rbp; mov rbp,rsp; call stop_here; pop rbp; ret
 *                                                      (frame-pointer helper)
 *
 * registers each with its exact frame description and calls outer. Calls go
 * through absolute addresses (movabs rax, imm64; call rax), so stop_here, a C
 * function, is reached from JIT code. Debuggers must unwind
 * stop_here -> inner -> middle -> outer -> main using only what was registered.
 *
 * Usage: foreign_jit [--spin | --no-stop] [--packed | --full]
 *   (default)  stop_here prints "ready pid=N" and raises SIGSTOP
 *   --spin     stop_here prints "ready pid=N" and spins until killed
 *   --no-stop  stop_here returns; the program checks the result (1107),
 *              removes the code and prints "done 1107"
 *   --packed   pack every new function and compress always, so debuggers
 *              read one xz-compressed .gnu_debugdata entry
 *   --full     DWARF line tables: outer's frames show "at foreign.jit:LINE"
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */

#include <jitscope/jit_debug.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

enum stop_mode { STOP_SIGNAL, STOP_SPIN, STOP_NONE };
static enum stop_mode stop_mode = STOP_SIGNAL;
static volatile sig_atomic_t keep_spinning = 1;

/* Called from the generated code; its return value travels back through it. */
static int stop_here(void) {
  printf("ready pid=%ld\n", (long)getpid());
  fflush(stdout);
  if (stop_mode == STOP_SIGNAL) raise(SIGSTOP);
  while (stop_mode == STOP_SPIN && keep_spinning) {
  }
  return 7;
}

/* Where each function lives in the code page; 64-byte slots. */
enum { INNER_AT = 0, MIDDLE_AT = 64, OUTER_AT = 128 };
enum { INNER_SIZE = 18, MIDDLE_SIZE = 26, OUTER_SIZE = 30 };
#define EXPECTED_RESULT 1107 /* 7 + 100 + 1000 */

struct emitter {
  unsigned char* p;
};

static void emit(struct emitter* e, const unsigned char* bytes, size_t n) {
  memcpy(e->p, bytes, n);
  e->p += n;
}

/* movabs rax, target; call rax */
static void emit_call_abs(struct emitter* e, uint64_t target) {
  static const unsigned char movabs_rax[] = {0x48, 0xb8};
  static const unsigned char call_rax[] = {0xff, 0xd0};
  emit(e, movabs_rax, sizeof movabs_rax);
  memcpy(e->p, &target, sizeof target); /* little-endian imm64 */
  e->p += sizeof target;
  emit(e, call_rax, sizeof call_rax);
}

static uint64_t function_address(int (*fn)(void)) {
  uint64_t address;
  memcpy(&address, &fn, sizeof address);
  return address;
}

/* Returns 0, or -1 if an emitted size disagrees with the sizes registered. */
static int write_code(unsigned char* page) {
  uint64_t base = (uint64_t)(uintptr_t)page;
  struct emitter e;

  e.p = page + INNER_AT;
  {
    static const unsigned char prologue[] = {0x55, 0x48, 0x89, 0xe5}; /* push rbp; mov rbp,rsp */
    static const unsigned char epilogue[] = {0x5d, 0xc3};             /* pop rbp; ret */
    emit(&e, prologue, sizeof prologue);
    emit_call_abs(&e, function_address(stop_here));
    emit(&e, epilogue, sizeof epilogue);
  }
  if (e.p != page + INNER_AT + INNER_SIZE) return -1;

  e.p = page + MIDDLE_AT;
  {
    static const unsigned char sub_rsp_24[] = {0x48, 0x83, 0xec, 0x18};
    static const unsigned char add_eax_100[] = {0x05, 0x64, 0x00, 0x00, 0x00};
    static const unsigned char add_rsp_24_ret[] = {0x48, 0x83, 0xc4, 0x18, 0xc3};
    emit(&e, sub_rsp_24, sizeof sub_rsp_24);
    emit_call_abs(&e, base + INNER_AT);
    emit(&e, add_eax_100, sizeof add_eax_100);
    emit(&e, add_rsp_24_ret, sizeof add_rsp_24_ret);
  }
  if (e.p != page + MIDDLE_AT + MIDDLE_SIZE) return -1;

  e.p = page + OUTER_AT;
  {
    /* push rbx; sub rsp,16; mov ebx,1000 */
    static const unsigned char prologue[] = {0x53, 0x48, 0x83, 0xec, 0x10, 0xbb, 0xe8, 0x03, 0x00, 0x00};
    /* add eax,ebx; add rsp,16; pop rbx; ret */
    static const unsigned char epilogue[] = {0x01, 0xd8, 0x48, 0x83, 0xc4, 0x10, 0x5b, 0xc3};
    emit(&e, prologue, sizeof prologue);
    emit_call_abs(&e, base + MIDDLE_AT);
    emit(&e, epilogue, sizeof epilogue);
  }
  return e.p == page + OUTER_AT + OUTER_SIZE ? 0 : -1;
}

static int register_code(jit_debug_context* ctx, unsigned char* page) {
  uint64_t base = (uint64_t)(uintptr_t)page;
  jit_debug_frame_row inner_rows[JIT_DEBUG_FRAME_PUSH_RBP_ROWS];
  jit_debug_frame_row middle_rows[JIT_DEBUG_FRAME_SUB_RSP_ROWS];
  jit_debug_frame_row outer_rows[5];
  int n_inner, n_middle, rc;

  /* inner: offsets after push rbp (1), mov rbp,rsp (4), pop rbp (17). */
  n_inner = jit_debug_frame_push_rbp_mov_rbp(inner_rows, JIT_DEBUG_FRAME_PUSH_RBP_ROWS, 1, 4, 17);
  /* middle: after sub rsp,24 (4) and add rsp,24 (25). */
  n_middle = jit_debug_frame_sub_rsp(middle_rows, JIT_DEBUG_FRAME_SUB_RSP_ROWS, 4, 24, 25);
  if (n_inner < 0 || n_middle < 0) return -EINVAL;

  /* outer, by hand: each row is the whole state from its offset on. */
  jit_debug_frame_row_init(&outer_rows[0], 0);
  jit_debug_frame_row_init(&outer_rows[1], 1); /* after push rbx */
  outer_rows[1].cfa_offset = 16;
  jit_debug_frame_row_save(&outer_rows[1], JIT_DEBUG_REG_RBX, -16);
  outer_rows[2] = outer_rows[1]; /* after sub rsp,16 */
  outer_rows[2].code_offset = 5;
  outer_rows[2].cfa_offset = 32;
  outer_rows[3] = outer_rows[1]; /* after add rsp,16 */
  outer_rows[3].code_offset = 28;
  jit_debug_frame_row_init(&outer_rows[4], 29); /* after pop rbx */

  {
    /* Optional line table (used when registering in full mode). */
    static const jit_debug_line outer_lines[] = {{0, 10}, {5, 11}, {22, 12}};
    jit_debug_code code;
    memset(&code, 0, sizeof code);
    code.source_file = "foreign.jit";

    code.address = base + INNER_AT;
    code.size = INNER_SIZE;
    code.name = "inner";
    code.first_line = 1;
    code.frame_rows = inner_rows;
    code.num_frame_rows = (size_t)n_inner;
    if ((rc = jit_debug_add_code(ctx, &code)) != 0) return rc;

    code.address = base + MIDDLE_AT;
    code.size = MIDDLE_SIZE;
    code.name = "middle";
    code.first_line = 5;
    code.frame_rows = middle_rows;
    code.num_frame_rows = (size_t)n_middle;
    if ((rc = jit_debug_add_code(ctx, &code)) != 0) return rc;

    code.address = base + OUTER_AT;
    code.size = OUTER_SIZE;
    code.name = "outer";
    code.first_line = 10;
    code.frame_rows = outer_rows;
    code.num_frame_rows = sizeof outer_rows / sizeof outer_rows[0];
    code.lines = outer_lines;
    code.num_lines = sizeof outer_lines / sizeof outer_lines[0];
    if ((rc = jit_debug_add_code(ctx, &code)) != 0) return rc;
  }
  return 0;
}

int main(int argc, char** argv) {
  jit_debug_options options;
  jit_debug_context* ctx;
  unsigned char* page;
  long page_size = sysconf(_SC_PAGESIZE);
  int (*outer)(void);
  void* outer_address;
  int i, rc, result;

  jit_debug_options_init(&options);
  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--spin") == 0) {
      stop_mode = STOP_SPIN;
    } else if (strcmp(argv[i], "--no-stop") == 0) {
      stop_mode = STOP_NONE;
    } else if (strcmp(argv[i], "--packed") == 0) {
      options.pack_every = 1;
      options.compress = JIT_DEBUG_COMPRESS_ALWAYS;
    } else if (strcmp(argv[i], "--full") == 0) {
      options.full = 1;
    } else {
      fprintf(stderr, "usage: %s [--spin | --no-stop] [--packed | --full]\n", argv[0]);
      return 2;
    }
  }

  /* W^X: written while RW, executed only after it became RX. */
  page = mmap(NULL, (size_t)page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) {
    perror("mmap");
    return 1;
  }
  memset(page, 0xcc, (size_t)page_size); /* int3 between functions */
  if (write_code(page) != 0) {
    fprintf(stderr, "emitted code does not match the registered sizes\n");
    return 1;
  }
  if (mprotect(page, (size_t)page_size, PROT_READ | PROT_EXEC) != 0) {
    perror("mprotect");
    return 1;
  }

  ctx = jit_debug_context_create(&options);
  if (ctx == NULL) {
    fprintf(stderr, "jit_debug_context_create failed\n");
    return 1;
  }
  if ((rc = register_code(ctx, page)) != 0) {
    fprintf(stderr, "registering code failed: %s\n", strerror(-rc));
    return 1;
  }

  outer_address = page + OUTER_AT;
  memcpy(&outer, &outer_address, sizeof outer); /* ISO C has no object-to-function cast */
  result = outer();

  if (result != EXPECTED_RESULT) {
    fprintf(stderr, "outer() returned %d, expected %d\n", result, EXPECTED_RESULT);
    return 1;
  }
  if (jit_debug_remove_code(ctx, (uint64_t)(uintptr_t)(page + INNER_AT)) != 0 ||
      jit_debug_remove_code(ctx, (uint64_t)(uintptr_t)(page + MIDDLE_AT)) != 0 ||
      jit_debug_remove_code(ctx, (uint64_t)(uintptr_t)(page + INNER_AT)) != -ENOENT) {
    fprintf(stderr, "jit_debug_remove_code failed\n");
    return 1;
  }
  /* Destroying the context unregisters outer: only then may its memory go. */
  jit_debug_context_destroy(ctx);
  munmap(page, (size_t)page_size);
  printf("done %d\n", result);
  return 0;
}
