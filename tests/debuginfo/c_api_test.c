/* The C API and ABI header compile as C11 and work from a C program. */
#include <jitscope/jit_debug.h>
#include <jitscope/jit_debug_api.h>
#include <stdio.h>
#include <string.h>

static int calls;
static void count_call(void) { calls++; }

int main(void) {
  static const char file[] = "\177ELF from C";
  void (*saved)(void) = __jit_debug_register_code_ptr;
  __jit_debug_register_code_ptr = count_call;
  if (memcmp(__jit_debug_descriptor.magic, "Android2", 8) != 0) return 1;
  jit_debug_handle* handle = jit_debug_register(file, sizeof file);
  if (handle == NULL || (void*)__jit_debug_descriptor.first_entry != (void*)handle) return 2;
  if (__jit_debug_descriptor.first_entry->symfile_size != sizeof file) return 3;
  if (jit_debug_unregister(handle) != 0 || jit_debug_unregister(handle) != -1) return 4;
  if (__jit_debug_descriptor.first_entry != NULL || __jit_debug_descriptor.seqlock != 4) return 5;
  __jit_debug_register_code_ptr = saved;
  if (calls != 2) return 6;
  puts("C API ok");
  return 0;
}
