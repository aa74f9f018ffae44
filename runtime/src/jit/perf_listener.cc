#include "perf_listener.h"

#include <cstdio>

namespace jitvm {
namespace jit {

// Loads are reported on the compiler thread only, so reported_error_ needs no lock of
// its own; one message per run is enough to tell the user the file is incomplete.
void PerfMapListener::OnCodeLoaded(const jitscope::CodeInfo& code) {
  std::string error;
  if (!writer_->Add(code.address, code.size, code.name, &error) && !reported_error_) {
    reported_error_ = true;
    fprintf(stderr, "jitvm: --perf-map: %s\n", error.c_str());
  }
}

void JitdumpListener::OnCodeLoaded(const jitscope::CodeInfo& code) {
  std::string error;
  if (!writer_->WriteLoad(code, {}, &error) && !reported_error_) {
    reported_error_ = true;
    fprintf(stderr, "jitvm: --jitdump: %s\n", error.c_str());
  }
}

}  // namespace jit
}  // namespace jitvm
