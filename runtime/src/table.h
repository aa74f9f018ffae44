// Lua tables: an array part for keys 1..asize and an open-addressing hash part.
//
// Why open addressing with linear probing: lookups of string keys (fields,
// globals, methods) dominate real programs and probe one cache line. Setting
// a value to nil leaves the key in place as a dead entry, so `next` keeps
// working while a traversal assigns nil (Lua 5.1 semantics); dead entries are
// dropped at the next rehash.
#pragma once

#include "value.h"

namespace jitvm {

struct Node {
  Value key;
  Value val;
};

struct Table {
  GCObject hdr;
  uint8_t flags;       // bit set = metamethod known absent (cache, as Lua's flags)
  Table* metatable;
  Value* array;        // keys 1..asize
  uint32_t asize;
  uint32_t hmask;      // hash part capacity - 1 (capacity is a power of two), or 0 when hsize==0
  uint32_t hsize;      // 0 or capacity
  uint32_t hused;      // slots holding a key (live or dead)
  Node* node;
};

Table* table_new(State* L, int narray, int nhash);
void table_free(State* L, Table* t);

// Raw access (no metamethods). Getters return a pointer to a nil Value when absent.
const Value* table_get(Table* t, const Value& key);
const Value* table_get_int(Table* t, int64_t key);
const Value* table_get_str(Table* t, String* key);
// Raw set. Errors (Lua error) on nil or NaN key.
void table_set(State* L, Table* t, const Value& key, const Value& val);
void table_set_int(State* L, Table* t, int64_t key, const Value& val);
void table_set_str(State* L, Table* t, String* key, const Value& val);
// Returns a slot to store into for `key`, creating it if needed (value nil when new).
Value* table_slot(State* L, Table* t, const Value& key);
// The border `#t` as Lua 5.1 computes it (luaH_getn).
int64_t table_length(Table* t);
// Iteration: `key` is the previous key (nil to start); on success stores the next
// key/value pair and returns true; returns false at the end. Errors on an invalid key.
bool table_next(State* L, Table* t, Value* key, Value* val);
// Grows the array part to at least n slots (used by SETLIST / table constructors).
void table_resize_array(State* L, Table* t, uint32_t n);

}  // namespace jitvm
