// Bytecode: the Lua 5.1 instruction set and encoding, unchanged, so that the
// compiler and interpreter share a well-known contract (lopcodes.h of 5.1):
//   iABC:  OP(6) | A(8) | C(9) | B(9)       from the low bit up
//   iABx:  OP(6) | A(8) | Bx(18)
//   iAsBx: OP(6) | A(8) | sBx(18, biased by kMaxArgSBx)
// RK(x): if bit 8 of B/C is set, the operand is constant index x & 0xff,
// otherwise a register.
#pragma once

#include <cstdint>

#include "value.h"

namespace jitvm {

enum OpCode : uint8_t {
  OP_MOVE,       // A B     R(A) := R(B)
  OP_LOADK,      // A Bx    R(A) := Kst(Bx)
  OP_LOADBOOL,   // A B C   R(A) := (Bool)B; if (C) pc++
  OP_LOADNIL,    // A B     R(A) := ... := R(B) := nil
  OP_GETUPVAL,   // A B     R(A) := UpValue[B]
  OP_GETGLOBAL,  // A Bx    R(A) := Gbl[Kst(Bx)]
  OP_GETTABLE,   // A B C   R(A) := R(B)[RK(C)]
  OP_SETGLOBAL,  // A Bx    Gbl[Kst(Bx)] := R(A)
  OP_SETUPVAL,   // A B     UpValue[B] := R(A)
  OP_SETTABLE,   // A B C   R(A)[RK(B)] := RK(C)
  OP_NEWTABLE,   // A B C   R(A) := {} (size = B,C, "floating point byte" encoded)
  OP_SELF,       // A B C   R(A+1) := R(B); R(A) := R(B)[RK(C)]
  OP_ADD,        // A B C   R(A) := RK(B) + RK(C)
  OP_SUB,
  OP_MUL,
  OP_DIV,
  OP_MOD,
  OP_POW,
  OP_UNM,        // A B     R(A) := -R(B)
  OP_NOT,        // A B     R(A) := not R(B)
  OP_LEN,        // A B     R(A) := length of R(B)
  OP_CONCAT,     // A B C   R(A) := R(B).. ... ..R(C)
  OP_JMP,        // sBx     pc += sBx
  OP_EQ,         // A B C   if ((RK(B) == RK(C)) ~= A) then pc++
  OP_LT,         // A B C   if ((RK(B) <  RK(C)) ~= A) then pc++
  OP_LE,         // A B C   if ((RK(B) <= RK(C)) ~= A) then pc++
  OP_TEST,       // A C     if not (R(A) <=> C) then pc++
  OP_TESTSET,    // A B C   if (R(B) <=> C) then R(A) := R(B) else pc++
  OP_CALL,       // A B C   R(A), ... ,R(A+C-2) := R(A)(R(A+1), ... ,R(A+B-1))
  OP_TAILCALL,   // A B C   return R(A)(R(A+1), ... ,R(A+B-1))
  OP_RETURN,     // A B     return R(A), ... ,R(A+B-2)
  OP_FORLOOP,    // A sBx   R(A)+=R(A+2); if R(A) <?= R(A+1) then { pc+=sBx; R(A+3)=R(A) }
  OP_FORPREP,    // A sBx   R(A)-=R(A+2); pc+=sBx
  OP_TFORLOOP,   // A C     R(A+3), ... ,R(A+2+C) := R(A)(R(A+1), R(A+2)); if R(A+3) ~= nil then R(A+2)=R(A+3) else pc++
  OP_SETLIST,    // A B C   R(A)[(C-1)*FPF+i] := R(A+i), 1 <= i <= B
  OP_CLOSE,      // A       close all variables in the stack up to (>=) R(A)
  OP_CLOSURE,    // A Bx    R(A) := closure(KPROTO[Bx], R(A), ... ,R(A+n))
  OP_VARARG,     // A B     R(A), R(A+1), ..., R(A+B-1) = vararg
  kNumOpcodes
};

extern const char* const kOpNames[kNumOpcodes];

enum OpMode { iABC, iABx, iAsBx };
extern const uint8_t kOpModes[kNumOpcodes];

constexpr int kSizeC = 9, kSizeB = 9, kSizeBx = kSizeC + kSizeB, kSizeA = 8, kSizeOp = 6;
constexpr int kPosOp = 0, kPosA = kPosOp + kSizeOp, kPosC = kPosA + kSizeA, kPosB = kPosC + kSizeC,
              kPosBx = kPosC;
constexpr int kMaxArgA = (1 << kSizeA) - 1;
constexpr int kMaxArgB = (1 << kSizeB) - 1;
constexpr int kMaxArgC = (1 << kSizeC) - 1;
constexpr int kMaxArgBx = (1 << kSizeBx) - 1;
constexpr int kMaxArgSBx = kMaxArgBx >> 1;
constexpr int kBitRK = 1 << (kSizeB - 1);
constexpr int kMaxIndexRK = kBitRK - 1;
constexpr int kFieldsPerFlush = 50;  // LFIELDS_PER_FLUSH
constexpr int kNoReg = kMaxArgA;     // NO_REG
constexpr int kMultRet = -1;         // LUA_MULTRET
constexpr int kMaxVars = 200;        // LUAI_MAXVARS
constexpr int kMaxUpvalues = 60;     // LUAI_MAXUPVALUES
constexpr int kMaxStack = 250;       // MAXSTACK: per-function register limit
constexpr int kMaxCCalls = 200;      // LUAI_MAXCCALLS: nesting of C calls / parser levels

inline OpCode GET_OPCODE(Instruction i) { return static_cast<OpCode>(i & 0x3f); }
inline int GETARG_A(Instruction i) { return static_cast<int>((i >> kPosA) & 0xff); }
inline int GETARG_B(Instruction i) { return static_cast<int>((i >> kPosB) & 0x1ff); }
inline int GETARG_C(Instruction i) { return static_cast<int>((i >> kPosC) & 0x1ff); }
inline int GETARG_Bx(Instruction i) { return static_cast<int>(i >> kPosBx); }
inline int GETARG_sBx(Instruction i) { return GETARG_Bx(i) - kMaxArgSBx; }
inline bool ISK(int x) { return (x & kBitRK) != 0; }
inline int INDEXK(int x) { return x & ~kBitRK; }
inline int RKASK(int x) { return x | kBitRK; }

inline void SET_OPCODE(Instruction& i, OpCode o) { i = (i & ~0x3fu) | o; }
inline void SETARG_A(Instruction& i, int v) { i = (i & ~(0xffu << kPosA)) | (static_cast<uint32_t>(v) << kPosA); }
inline void SETARG_B(Instruction& i, int v) { i = (i & ~(0x1ffu << kPosB)) | (static_cast<uint32_t>(v) << kPosB); }
inline void SETARG_C(Instruction& i, int v) { i = (i & ~(0x1ffu << kPosC)) | (static_cast<uint32_t>(v) << kPosC); }
inline void SETARG_Bx(Instruction& i, int v) { i = (i & 0x3fffu) | (static_cast<uint32_t>(v) << kPosBx); }
inline void SETARG_sBx(Instruction& i, int v) { SETARG_Bx(i, v + kMaxArgSBx); }

inline Instruction CREATE_ABC(OpCode o, int a, int b, int c) {
  return static_cast<Instruction>(o) | (static_cast<uint32_t>(a) << kPosA) |
         (static_cast<uint32_t>(b) << kPosB) | (static_cast<uint32_t>(c) << kPosC);
}
inline Instruction CREATE_ABx(OpCode o, int a, int bx) {
  return static_cast<Instruction>(o) | (static_cast<uint32_t>(a) << kPosA) |
         (static_cast<uint32_t>(bx) << kPosBx);
}

// "Floating point byte" used by NEWTABLE sizes (luaO_int2fb / luaO_fb2int).
int int2fb(unsigned x);
int fb2int(int x);

}  // namespace jitvm
