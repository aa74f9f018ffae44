// The process-wide GDB JIT interface symbols and the C API over them.
// Linking jitscope_debuginfo always pulls this object in (see
// debuginfo/CMakeLists.txt), so the symbols exist even in programs that
// only read descriptors.
#include "debuginfo/jit_descriptor_writer.h"
#include "jitscope/jit_debug.h"
#include "jitscope/jit_debug_api.h"

#define JITSCOPE_EXPORT __attribute__((visibility("default"), used))

extern "C" {

// constinit: readers may look before any constructor runs.
JITSCOPE_EXPORT constinit jit_descriptor __jit_debug_descriptor =
    jitscope::JitDescriptorWriter::InitDescriptor();

// gdb and lldb put a breakpoint here; the empty asm keeps the compiler from
// removing the call or merging this function with another empty one.
JITSCOPE_EXPORT __attribute__((noinline)) void __jit_debug_register_code(void) {
  asm volatile("" ::: "memory");
}

JITSCOPE_EXPORT void (*__jit_debug_register_code_ptr)(void) = __jit_debug_register_code;

// The twin descriptor for source blobs (ART calls its twin
// __dex_debug_descriptor): same ABI and protocol, entries point at source
// blobs (format in debuginfo/source_blob.h) instead of ELF files. Debuggers
// ignore it; jitscope reads it to show source without the files.
JITSCOPE_EXPORT constinit jit_descriptor __jit_source_descriptor =
    jitscope::JitDescriptorWriter::InitDescriptor();

JITSCOPE_EXPORT __attribute__((noinline)) void __jit_source_register_code(void) {
  asm volatile("" ::: "memory");
}

JITSCOPE_EXPORT void (*__jit_source_register_code_ptr)(void) = __jit_source_register_code;

JITSCOPE_EXPORT jit_debug_handle* jit_debug_register(const void* symfile, uint64_t size) {
  return reinterpret_cast<jit_debug_handle*>(jitscope::GlobalJitDescriptorWriter().Register(symfile, size));
}

JITSCOPE_EXPORT int jit_debug_unregister(jit_debug_handle* handle) {
  bool ok = jitscope::GlobalJitDescriptorWriter().Unregister(reinterpret_cast<jit_code_entry*>(handle));
  return ok ? 0 : -1;
}

}  // extern "C"

namespace jitscope {

JitDescriptorWriter& GlobalJitDescriptorWriter() {
  // Leaked on purpose: entries must outlive every reader (W1), including
  // threads still registering while static destructors run.
  static JitDescriptorWriter* writer =
      new JitDescriptorWriter(&__jit_debug_descriptor, &__jit_debug_register_code_ptr);
  return *writer;
}

JitDescriptorWriter& GlobalSourceDescriptorWriter() {
  static JitDescriptorWriter* writer =
      new JitDescriptorWriter(&__jit_source_descriptor, &__jit_source_register_code_ptr);
  return *writer;
}

}  // namespace jitscope
