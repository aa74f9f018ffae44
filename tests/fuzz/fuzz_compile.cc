// libFuzzer target: lexer, parser and bytecode compiler on arbitrary bytes.
// Every input must either compile or produce a syntax error message; never crash,
// hang or leak.
#include <cstddef>
#include <cstdint>
#include <string>

#include "api.h"
#include "dump.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  jitvm::State* L = jitvm::state_new();
  if (!L) return 0;
  std::string err;
  jitvm::Proto* p = jitvm::compile_chunk(L, reinterpret_cast<const char*>(data), size, "=fuzz", &err);
  if (p) {
    // The dumper walks every prototype, constant and debug record the compiler made.
    std::string dump = jitvm::dump_bytecode(p);
    if (dump.empty()) __builtin_trap();
  } else if (err.empty()) {
    __builtin_trap();  // a failed compile must explain itself
  }
  jitvm::state_close(L);
  return 0;
}
