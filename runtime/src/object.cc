// Strings (interning), number <-> string conversion, object allocation.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <new>

#include "api.h"
#include "opcodes.h"

namespace jitvm {

const char* type_name(int tag) {
  static const char* const kNames[] = {"nil", "boolean", "userdata", "number", "string", "table",
                                       "function", "userdata", "thread", "proto", "upval"};
  if (tag < 0 || tag > kTUpval) return "no value";
  return kNames[tag];
}

// ---- String interning -----------------------------------------------------------
// Hash as Lua 5.1 does (skipping characters of long strings) so hashing a long
// string costs O(32) rather than O(len).
static uint32_t hash_string(const char* s, size_t l) {
  uint32_t h = static_cast<uint32_t>(l);
  size_t step = (l >> 5) + 1;
  for (size_t l1 = l; l1 >= step; l1 -= step)
    h = h ^ ((h << 5) + (h >> 2) + static_cast<unsigned char>(s[l1 - 1]));
  return h;
}

static void resize_strings(Global* g, uint32_t newsize) {
  auto* nt = static_cast<StringSlot*>(g->pool.alloc_zeroed(size_t{newsize} * sizeof(StringSlot)));
  uint32_t mask = newsize - 1;
  // The slots carry the hashes: rehashing never touches a string.
  for (uint32_t i = 0; i < g->strt_size; i++) {
    const StringSlot& slot = g->strt[i];
    if (!slot.s) continue;
    uint32_t j = slot.hash & mask;
    while (nt[j].s) j = (j + 1) & mask;
    nt[j] = slot;
  }
  g->pool.free(g->strt, size_t{g->strt_size} * sizeof(StringSlot));
  g->strt = nt;
  g->strt_size = newsize;
}

String* new_string(State* L, const char* str, size_t l) {
  Global* g = L->g;
  uint32_t h = hash_string(str, l);
  uint32_t mask = g->strt_size - 1;
  uint32_t i = h & mask;
  for (;; i = (i + 1) & mask) {
    const StringSlot& slot = g->strt[i];
    if (!slot.s) break;
    if (slot.hash == h && slot.len == l && memcmp(str, slot.s->data, l) == 0) {
      // A string found dead but not yet swept is resurrected (it may be in the sweep's future).
      slot.s->hdr.marked &= ~2;
      return slot.s;
    }
  }
  if (l > 0x7fffffff) error(L, "string length overflow");
  size_t bytes = offsetof(String, data) + l + 1;
  String* s = static_cast<String*>(g->pool.alloc(bytes));
  s->reserved = 0;
  s->hash = h;
  s->len = static_cast<uint32_t>(l);
  memcpy(s->data, str, l);
  s->data[l] = '\0';
  gc_link(L, &s->hdr, kTString, bytes);  // never collects: slot i is still the free one
  g->strt[i] = StringSlot{s, h, static_cast<uint32_t>(l)};
  g->strt_count++;
  if (g->strt_count > g->strt_size / 2 && g->strt_size <= 0x40000000u) resize_strings(g, g->strt_size * 2);
  return s;
}

void strings_init(Global* g) { resize_strings(g, 1024); }

void strings_remove(Global* g, String* s) {
  uint32_t mask = g->strt_size - 1;
  uint32_t i = s->hash & mask;
  while (g->strt[i].s != s) {
    if (!g->strt[i].s) return;  // never interned (allocation failed at the heap limit)
    i = (i + 1) & mask;
  }
  // Backward-shift deletion: move later entries of the probe run into the
  // hole unless that would put them before their home slot.
  for (uint32_t j = (i + 1) & mask; g->strt[j].s; j = (j + 1) & mask) {
    uint32_t home = g->strt[j].hash & mask;
    // Does home lie cyclically in (i, j]? Then the entry must stay.
    bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
    if (stays) continue;
    g->strt[i] = g->strt[j];
    i = j;
  }
  g->strt[i].s = nullptr;
  g->strt_count--;
}

String* new_fixed_string(State* L, const char* s) {
  String* str = new_string(L, s, strlen(s));
  str->hdr.marked |= 4;  // fixed: never collected
  return str;
}

// ---- Numbers --------------------------------------------------------------------
bool str2number(const char* s, size_t len, double* out) {
  // The buffer may not be NUL-terminated at len, so copy short inputs.
  char buf[128];
  std::string big;
  const char* p;
  if (len < sizeof(buf)) {
    memcpy(buf, s, len);
    buf[len] = '\0';
    p = buf;
  } else {
    big.assign(s, len);
    p = big.c_str();
  }
  if (strlen(p) != len) return false;  // embedded NUL
  char* end;
  double r = strtod(p, &end);
  if (end == p) return false;
  if (*end == 'x' || *end == 'X') {  // hex: strtod in C99 handles it, but 5.1 uses strtoul
    r = static_cast<double>(strtoul(p, &end, 16));
  }
  // Lua 5.1 accepts what strtod accepts (glibc: hex, inf, nan) and then only trailing space.
  while (*end && isspace(static_cast<unsigned char>(*end))) end++;
  if (*end != '\0') return false;
  *out = r;
  return true;
}

int number2str(double n, char* buf) { return snprintf(buf, 32, "%.14g", n); }

std::string chunk_id(const String* source, size_t kIdSize) {
  // luaO_chunkid of Lua 5.1, byte for byte.
  if (!source) return "?";
  const char* src = source->data;
  if (*src == '=') return std::string(src + 1, std::min<size_t>(strlen(src + 1), kIdSize - 1));
  if (*src == '@') {
    const size_t bufflen = kIdSize - sizeof(" '...' ");
    size_t l = strlen(src + 1);
    if (l > bufflen) return "..." + std::string(src + 1 + (l - bufflen));
    return std::string(src + 1);
  }
  const size_t bufflen = kIdSize - sizeof(" [string \"...\"] ");
  size_t len = strcspn(src, "\n\r");
  if (len > bufflen) len = bufflen;
  std::string out = "[string \"";
  out.append(src, len);
  if (src[len] != '\0') out += "...";
  out += "\"]";
  return out;
}

// ---- Objects --------------------------------------------------------------------
static size_t closure_bytes(int nups) {
  return offsetof(Closure, cupvals) + sizeof(Value) * (nups > 0 ? nups : 1);
}

Closure* new_native(State* L, NativeFn fn, const char* name, int nupvalues) {
  size_t bytes = closure_bytes(nupvalues);
  Closure* c = static_cast<Closure*>(L->g->pool.alloc_zeroed(bytes));
  c->is_native = 1;
  c->nupvalues = static_cast<uint8_t>(nupvalues);
  c->env = L->globals.as_table();
  c->fn = fn;
  c->name = name;
  for (int i = 0; i < nupvalues; i++) c->cupvals[i] = Value::nil();
  gc_link(L, &c->hdr, kTFunction, bytes);
  return c;
}

Closure* new_lua_closure(State* L, Proto* p, Table* env) {
  size_t bytes = closure_bytes(p->nups);
  Closure* c = static_cast<Closure*>(L->g->pool.alloc_zeroed(bytes));
  c->is_native = 0;
  c->nupvalues = p->nups;
  c->env = env;
  c->proto = p;
  gc_link(L, &c->hdr, kTFunction, bytes);
  return c;
}

Proto* new_proto(State* L) {
  Proto* p = new Proto();
  p->id = L->g->next_proto_id++;
  gc_link(L, &p->hdr, kTProto, sizeof(Proto));
  return p;
}

Userdata* new_userdata(State* L, size_t size, Table* metatable) {
  size_t bytes = offsetof(Userdata, data) + size;
  Userdata* u = static_cast<Userdata*>(L->g->pool.alloc_zeroed(bytes));
  u->metatable = metatable;
  u->env = L->globals.as_table();
  u->size = size;
  gc_link(L, &u->hdr, kTUserdata, bytes);
  return u;
}

}  // namespace jitvm
