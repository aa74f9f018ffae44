#include "debuginfo/code_event.h"

namespace jitscope {

const char* CodeTierName(CodeTier tier) {
  switch (tier) {
    case CodeTier::kInterpreter: return "interp";
    case CodeTier::kBaseline: return "baseline";
    case CodeTier::kOsr: return "osr";
    case CodeTier::kStub: return "stub";
  }
  return "?";
}

}  // namespace jitscope
