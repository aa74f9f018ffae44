#include "opcodes.h"

namespace jitvm {

// Spelled as luaP_opnames so that dumps read like luac's.
const char* const kOpNames[kNumOpcodes] = {
    "MOVE",   "LOADK",   "LOADBOOL", "LOADNIL", "GETUPVAL", "GETGLOBAL", "GETTABLE", "SETGLOBAL",
    "SETUPVAL", "SETTABLE", "NEWTABLE", "SELF", "ADD",      "SUB",       "MUL",      "DIV",
    "MOD",    "POW",     "UNM",      "NOT",     "LEN",      "CONCAT",    "JMP",      "EQ",
    "LT",     "LE",      "TEST",     "TESTSET", "CALL",     "TAILCALL",  "RETURN",   "FORLOOP",
    "FORPREP", "TFORLOOP", "SETLIST", "CLOSE",  "CLOSURE",  "VARARG"};

const uint8_t kOpModes[kNumOpcodes] = {
    iABC,  // MOVE
    iABx,  // LOADK
    iABC,  // LOADBOOL
    iABC,  // LOADNIL
    iABC,  // GETUPVAL
    iABx,  // GETGLOBAL
    iABC,  // GETTABLE
    iABx,  // SETGLOBAL
    iABC,  // SETUPVAL
    iABC,  // SETTABLE
    iABC,  // NEWTABLE
    iABC,  // SELF
    iABC,  // ADD
    iABC,  // SUB
    iABC,  // MUL
    iABC,  // DIV
    iABC,  // MOD
    iABC,  // POW
    iABC,  // UNM
    iABC,  // NOT
    iABC,  // LEN
    iABC,  // CONCAT
    iAsBx, // JMP
    iABC,  // EQ
    iABC,  // LT
    iABC,  // LE
    iABC,  // TEST
    iABC,  // TESTSET
    iABC,  // CALL
    iABC,  // TAILCALL
    iABC,  // RETURN
    iAsBx, // FORLOOP
    iAsBx, // FORPREP
    iABC,  // TFORLOOP
    iABC,  // SETLIST
    iABC,  // CLOSE
    iABx,  // CLOSURE
    iABC,  // VARARG
};

// A "floating point byte" is eeeeexxx: (1xxx) * 2^(eeeee - 1) when eeeee > 0,
// else xxx. int2fb rounds up so a table is never created too small.
int int2fb(unsigned x) {
  int e = 0;
  while (x >= 16) {
    x = (x + 1) >> 1;
    e++;
  }
  if (x < 8) return static_cast<int>(x);
  return ((e + 1) << 3) | (static_cast<int>(x) - 8);
}

int fb2int(int x) {
  int e = (x >> 3) & 31;
  if (e == 0) return x;
  return ((x & 7) + 8) << (e - 1);
}

}  // namespace jitvm
