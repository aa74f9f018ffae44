// Core value and object model of the jitvm Lua 5.1 VM.
//
// Why a 16-byte tagged value (like PUC Lua's TValue) rather than NaN-boxing:
// the JIT tier reads and writes these slots directly from generated code, and a
// separate tag byte keeps the emitted type checks to one compare.
//
// GC contract (see gc.cc): collection runs only at safe points (allocating
// bytecodes in the interpreter, and after a native function returns). Native
// code may therefore hold GC pointers in C++ locals freely, EXCEPT across a
// call back into Lua (vm_call / vm_pcall): anything that must survive such a
// call has to be reachable from the Lua stack (for example: an argument).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace jitvm {

struct State;

enum Tag : uint8_t {
  kTNil = 0,
  kTBoolean = 1,
  kTLightUserdata = 2,
  kTNumber = 3,
  kTString = 4,
  kTTable = 5,
  kTFunction = 6,
  kTUserdata = 7,
  kTThread = 8,
  kTProto = 9,   // internal only, never in a Value visible to Lua
  kTUpval = 10,  // internal only
};

// Names as Lua 5.1 prints them in messages ("a nil value", type()).
const char* type_name(int tag);

struct GCObject {
  GCObject* gc_next;  // all-objects list, for sweeping
  uint8_t tag;
  uint8_t marked;
};

struct String;
struct Table;
struct Closure;
struct Userdata;

struct Value {
  union {
    double n;
    GCObject* gc;
    void* p;
    int b;
    uint64_t bits;  // the payload as a whole, for copies
  };
  uint8_t tt;

  // Copies a value as its 8-byte payload and its tag byte, never as one
  // 16-byte SSE load: a value whose payload and tag were just written by two
  // stores (natives' results, the JIT's stores) cannot be store-forwarded to
  // a 16-byte load, and the copy stalls until the stores drain (measured:
  // 43% of poscall's samples in json). Used where results and arguments
  // move; Value stays trivially copyable so it is passed and returned in
  // registers.
  static void copy(Value* dst, const Value* src) {
    dst->bits = src->bits;
    dst->tt = src->tt;
  }

  static Value nil() { Value v; v.n = 0; v.tt = kTNil; return v; }
  static Value number(double d) { Value v; v.n = d; v.tt = kTNumber; return v; }
  static Value boolean(bool b) { Value v; v.n = 0; v.b = b ? 1 : 0; v.tt = kTBoolean; return v; }
  static Value light(void* p) { Value v; v.n = 0; v.p = p; v.tt = kTLightUserdata; return v; }
  static Value object(GCObject* o) { Value v; v.gc = o; v.tt = o->tag; return v; }
  static Value string(String* s) { return object(reinterpret_cast<GCObject*>(s)); }
  static Value table(Table* t) { return object(reinterpret_cast<GCObject*>(t)); }
  static Value function(Closure* c) { return object(reinterpret_cast<GCObject*>(c)); }

  bool is_nil() const { return tt == kTNil; }
  bool is_number() const { return tt == kTNumber; }
  bool is_string() const { return tt == kTString; }
  bool is_table() const { return tt == kTTable; }
  bool is_function() const { return tt == kTFunction; }
  bool is_boolean() const { return tt == kTBoolean; }
  bool is_collectable() const { return tt >= kTString; }
  bool is_falsy() const { return tt == kTNil || (tt == kTBoolean && b == 0); }

  String* as_string() const { return reinterpret_cast<String*>(gc); }
  Table* as_table() const { return reinterpret_cast<Table*>(gc); }
  Closure* as_closure() const { return reinterpret_cast<Closure*>(gc); }
  Userdata* as_userdata() const { return reinterpret_cast<Userdata*>(gc); }
};
static_assert(sizeof(Value) == 16, "JIT code assumes 16-byte values");

// Raw equality (no metamethods): numbers by value, everything else by identity
// (strings are interned, so identity is content equality).
inline bool raw_equal(const Value& a, const Value& b) {
  if (a.tt != b.tt) return false;
  switch (a.tt) {
    case kTNil: return true;
    case kTNumber: return a.n == b.n;
    case kTBoolean: return a.b == b.b;
    case kTLightUserdata: return a.p == b.p;
    default: return a.gc == b.gc;
  }
}

// Interned, immutable, NUL-terminated.
struct String {
  GCObject hdr;
  uint8_t reserved;  // 1 for reserved words (used by the lexer), else 0
  uint32_t hash;
  uint32_t len;
  char data[1];       // len bytes + NUL

  const char* c_str() const { return data; }
  std::string str() const { return std::string(data, len); }
};

// A slot of the intern table (Global::strt); s == nullptr: empty.
struct StringSlot {
  String* s;
  uint32_t hash;
  uint32_t len;
};


struct Userdata {
  GCObject hdr;
  Table* metatable;
  Table* env;
  size_t size;
  void (*finalizer)(void*);  // native cleanup (io files), may be null
  alignas(16) unsigned char data[1];
};

// Local variable debug info (for error messages and --dump-bytecode).
struct LocVar {
  String* name;
  int startpc;  // first pc where the variable is active
  int endpc;    // first pc where it is dead
};

using Instruction = uint32_t;

// Function prototype, produced by the compiler. Field meanings follow Lua 5.1's
// Proto exactly so the bytecode has Lua 5.1 semantics.
struct Proto {
  GCObject hdr;
  uint8_t nups = 0;
  uint8_t numparams = 0;
  uint8_t is_vararg = 0;  // VARARG_* bits as in Lua 5.1 (1 = HASARG, 2 = ISVARARG, 4 = NEEDSARG)
  uint8_t maxstacksize = 0;
  std::vector<Instruction> code;
  std::vector<Value> k;
  std::vector<Proto*> p;
  std::vector<int> lineinfo;  // one line per instruction
  std::vector<LocVar> locvars;
  std::vector<String*> upvalues;  // upvalue names
  String* source = nullptr;       // chunk name as given ("@file.lua", "=stdin", or the code)
  int linedefined = 0;
  int lastlinedefined = 0;

  // Runtime profiling state, used by the JIT tiers.
  uint32_t call_count = 0;        // hotness counter, bumped per call
  std::vector<uint16_t> loop_counts;  // back-edge counters, indexed by pc of the backward jump
  void* jit_code = nullptr;       // jit::JitCode* installed (acquire/release), or null
  uint8_t jit_state = 0;          // 0 none, 1 queued, 2 installed, 3 failed, 4 evicted
  uint32_t backedges = 0;         // loop back edges taken in the interpreter (OSR trigger)
  uint32_t id = 0;                // unique per prototype, stable for the VM's life
  std::string name;               // "fname@chunk:line", assigned at load time
  void* source_entry = nullptr;   // main chunks: the __jit_source_descriptor entry (chunk_sources.cc)
  void* source_blob = nullptr;    // in the Global's source_pool, of source_blob_size bytes
  size_t source_blob_size = 0;
};

constexpr int kVarargHasArg = 1;
constexpr int kVarargIsVararg = 2;
constexpr int kVarargNeedsArg = 4;

struct UpVal {
  GCObject hdr;
  Value* v;      // points to the stack slot while open, to `value` once closed
  Value value;   // the closed value
  UpVal* next_open;  // open upvalue list of the state, sorted by stack level (descending)
};

using NativeFn = int (*)(State* L);

struct Closure {
  GCObject hdr;
  uint8_t is_native;
  uint8_t nupvalues;
  Table* env;
  // Lua closures
  Proto* proto;
  // Native closures
  NativeFn fn;
  const char* name;  // for error messages ("bad argument #1 to 'insert'")
  // Upvalues: UpVal* for Lua closures, Values for native closures.
  union {
    UpVal* upvals[1];
    Value cupvals[1];
  };
};

}  // namespace jitvm
