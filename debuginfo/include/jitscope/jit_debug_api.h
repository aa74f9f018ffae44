/*
 * jitscope/jit_debug_api.h — registering JIT symbol files from any JIT.
 *
 * Link jitscope_debuginfo and call jit_debug_register() for each in-memory
 * ELF file describing generated code; gdb, lldb and jitscope then see it
 * through __jit_debug_descriptor (protocol: jitscope/jit_debug.h).
 * Thread-safe. The symbol file must stay alive and unchanged until
 * jit_debug_unregister() returns for its handle.
 */
#ifndef JITSCOPE_JIT_DEBUG_API_H_
#define JITSCOPE_JIT_DEBUG_API_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Opaque; the address of the descriptor entry, stable until unregistered. */
typedef struct jit_debug_handle jit_debug_handle;

/* Returns NULL if symfile is NULL, size is 0, or memory ran out. */
jit_debug_handle* jit_debug_register(const void* symfile, uint64_t size);

/* Returns 0, or -1 if handle is not currently registered (NULL, unknown or
 * already unregistered); the descriptor is then left untouched. */
int jit_debug_unregister(jit_debug_handle* handle);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* JITSCOPE_JIT_DEBUG_API_H_ */
