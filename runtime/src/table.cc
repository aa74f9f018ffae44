#include "table.h"

#include <cmath>
#include <cstdlib>
#include <new>

#include "vm_internal.h"

namespace jitvm {

namespace {

const Value kNilValue = Value::nil();

// Keep the hash part at most 3/4 full: linear probing degrades quickly above that.
constexpr uint32_t kMaxLoadNum = 3, kMaxLoadDen = 4;
constexpr int kMaxABits = 26;  // array part limit (2^26 slots), as Lua's MAXABITS order

inline uint32_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return static_cast<uint32_t>(x);
}

inline uint32_t hash_value(const Value& k) {
  switch (k.tt) {
    case kTString: return k.as_string()->hash;
    case kTNumber: {
      double d = k.n;
      if (d == 0) d = 0;  // -0 and 0 are the same key
      uint64_t bits;
      memcpy(&bits, &d, sizeof bits);
      return mix64(bits);
    }
    case kTBoolean: return static_cast<uint32_t>(k.b);
    default: return mix64(reinterpret_cast<uintptr_t>(k.p));
  }
}

// Integer value of a number key if it is one, for the array part.
inline bool as_array_index(const Value& k, int64_t* out) {
  if (k.tt != kTNumber) return false;
  double d = k.n;
  // Only doubles within int64 range convert defined-ly (NaN fails this test too).
  if (!(d >= -9.2e18 && d <= 9.2e18)) return false;
  int64_t i = static_cast<int64_t>(d);
  if (static_cast<double>(i) != d) return false;
  *out = i;
  return true;
}

size_t node_bytes(uint32_t n) { return sizeof(Node) * n; }
size_t array_bytes(uint32_t n) { return sizeof(Value) * n; }

}  // namespace

Table* table_new(State* L, int narray, int nhash) {
  Table* t = static_cast<Table*>(L->g->pool.alloc_zeroed(sizeof(Table)));
  gc_link(L, &t->hdr, kTTable, sizeof(Table));
  if (narray > 0) table_resize_array(L, t, static_cast<uint32_t>(narray));
  if (nhash > 0) {
    uint32_t cap = 4;
    while (cap * kMaxLoadNum / kMaxLoadDen < static_cast<uint32_t>(nhash)) cap <<= 1;
    t->node = static_cast<Node*>(L->g->pool.alloc_zeroed(node_bytes(cap)));  // zero = nil keys and values
    t->hsize = cap;
    t->hmask = cap - 1;
    L->g->total_bytes += node_bytes(cap);
  }
  return t;
}

void table_free(State* L, Table* t) {
  Global* g = L->g;
  g->total_bytes -= sizeof(Table) + node_bytes(t->hsize) + sizeof(Value) * t->asize;
  // Sized frees: t->array holds exactly asize values and t->node exactly hsize nodes.
  g->pool.free(t->array, array_bytes(t->asize));
  g->pool.free(t->node, node_bytes(t->hsize));
  g->pool.free(t, sizeof(Table));
}

void table_resize_array(State* L, Table* t, uint32_t n) {
  if (n <= t->asize) return;
  Value* na = static_cast<Value*>(L->g->pool.resize(t->array, array_bytes(t->asize), array_bytes(n)));
  for (uint32_t i = t->asize; i < n; i++) na[i] = Value::nil();
  L->g->total_bytes += sizeof(Value) * (n - t->asize);
  t->array = na;
  t->asize = n;
  // Keys now covered by the array part must move out of the hash part.
  for (uint32_t i = 0; i < t->hsize; i++) {
    Node& nd = t->node[i];
    int64_t k;
    if (!nd.val.is_nil() && as_array_index(nd.key, &k) && k >= 1 && k <= static_cast<int64_t>(n)) {
      t->array[k - 1] = nd.val;
      nd.val = Value::nil();  // leaves a dead key; dropped at next rehash
    }
  }
}

static Node* find_node(Table* t, const Value& key) {
  if (t->hsize == 0) return nullptr;
  uint32_t i = hash_value(key) & t->hmask;
  for (;;) {
    Node* n = &t->node[i];
    if (n->key.tt == kTNil) return nullptr;
    if (raw_equal(n->key, key)) return n;
    i = (i + 1) & t->hmask;
  }
}

const Value* table_get_str(Table* t, String* key) {
  if (t->hsize == 0) return &kNilValue;
  uint32_t i = key->hash & t->hmask;
  for (;;) {
    Node* n = &t->node[i];
    if (n->key.tt == kTString && n->key.gc == reinterpret_cast<GCObject*>(key)) return &n->val;
    if (n->key.tt == kTNil) return &kNilValue;
    i = (i + 1) & t->hmask;
  }
}

const Value* table_get_int(Table* t, int64_t key) {
  if (static_cast<uint64_t>(key) - 1 < t->asize) return &t->array[key - 1];
  Node* n = find_node(t, Value::number(static_cast<double>(key)));
  return n ? &n->val : &kNilValue;
}

const Value* table_get(Table* t, const Value& key) {
  switch (key.tt) {
    case kTNil: return &kNilValue;
    case kTString: return table_get_str(t, key.as_string());
    case kTNumber: {
      int64_t k;
      if (as_array_index(key, &k)) return table_get_int(t, k);
      break;
    }
    default: break;
  }
  Node* n = find_node(t, key);
  return n ? &n->val : &kNilValue;
}

// ---- Rehash (Lua 5.1's sizing policy for the array part) ------------------------
static int ceil_log2(uint64_t x) {
  int l = 0;
  x--;
  while (x >= 1) {
    l++;
    x >>= 1;
  }
  return l;
}

static void count_int(const Value& key, int* nums, int* total) {
  int64_t k;
  if (as_array_index(key, &k) && k >= 1 && k <= (int64_t{1} << kMaxABits)) {
    nums[ceil_log2(static_cast<uint64_t>(k))]++;
    (*total)++;
  }
}

static void rehash(State* L, Table* t, const Value& extra_key) {
  int nums[kMaxABits + 1] = {};
  int nasize = 0;
  // Array part.
  {
    uint32_t i = 1;
    int lg = 0;
    uint32_t ttlg = 1;
    for (; lg <= kMaxABits; lg++, ttlg *= 2) {
      int lc = 0;
      uint32_t lim = ttlg;
      if (lim > t->asize) {
        lim = t->asize;
        if (i > lim) break;
      }
      for (; i <= lim; i++)
        if (!t->array[i - 1].is_nil()) lc++;
      nums[lg] += lc;
      nasize += lc;
    }
  }
  int totaluse = nasize;
  int hash_live = 0;
  for (uint32_t i = 0; i < t->hsize; i++) {
    Node& n = t->node[i];
    if (!n.val.is_nil()) {
      hash_live++;
      count_int(n.key, nums, &nasize);
    }
  }
  totaluse += hash_live;
  count_int(extra_key, nums, &nasize);
  totaluse++;
  // computesizes
  int a = 0, na = 0, n = 0;
  for (int i = 0, twotoi = 1; twotoi / 2 < nasize && i <= kMaxABits; i++, twotoi *= 2) {
    if (nums[i] > 0) {
      a += nums[i];
      if (a > twotoi / 2) {
        n = twotoi;
        na = a;
      }
    }
  }
  uint32_t new_asize = static_cast<uint32_t>(n);
  int nhash = totaluse - na;
  // Rebuild.
  uint32_t old_hsize = t->hsize;
  Node* old_node = t->node;
  uint32_t old_asize = t->asize;
  uint32_t cap = 0;
  if (nhash > 0) {
    cap = 4;
    while (cap * kMaxLoadNum / kMaxLoadDen < static_cast<uint32_t>(nhash)) cap <<= 1;
  }
  Node* nn = cap ? static_cast<Node*>(L->g->pool.alloc_zeroed(node_bytes(cap))) : nullptr;
  L->g->total_bytes += node_bytes(cap);
  L->g->total_bytes -= node_bytes(old_hsize);
  t->node = nn;
  t->hsize = cap;
  t->hmask = cap ? cap - 1 : 0;
  t->hused = 0;
  Value* old_array = t->array;
  if (new_asize > old_asize) {
    Value* na2 = static_cast<Value*>(L->g->pool.resize(t->array, array_bytes(old_asize), array_bytes(new_asize)));
    for (uint32_t i = old_asize; i < new_asize; i++) na2[i] = Value::nil();
    t->array = na2;
    t->asize = new_asize;
    L->g->total_bytes += sizeof(Value) * (new_asize - old_asize);
    old_array = nullptr;
  } else if (new_asize < old_asize) {
    // Shrink into a new block first so that t->array always holds exactly t->asize
    // values (the pool's frees are sized), then move the tail of the old array into
    // the hash.
    Value* na2 = nullptr;
    if (new_asize) {
      na2 = static_cast<Value*>(L->g->pool.alloc(array_bytes(new_asize)));
      memcpy(static_cast<void*>(na2), old_array, array_bytes(new_asize));
    }
    t->array = na2;
    t->asize = new_asize;
    L->g->total_bytes -= sizeof(Value) * (old_asize - new_asize);
    for (uint32_t i = new_asize; i < old_asize; i++) {
      if (!old_array[i].is_nil()) *table_slot(L, t, Value::number(static_cast<double>(i + 1))) = old_array[i];
    }
    L->g->pool.free(old_array, array_bytes(old_asize));
  }
  for (uint32_t i = 0; i < old_hsize; i++) {
    Node& o = old_node[i];
    if (!o.val.is_nil()) *table_slot(L, t, o.key) = o.val;
  }
  L->g->pool.free(old_node, node_bytes(old_hsize));
}

Value* table_slot(State* L, Table* t, const Value& key) {
  // A key may appear: forget the metamethods cached as absent (Lua 5.1's
  // invalidateTMcache). Stores that only overwrite a present value need not.
  t->flags = 0;
  int64_t k;
  if (key.tt == kTNumber) {
    if (as_array_index(key, &k)) {
      if (static_cast<uint64_t>(k) - 1 < t->asize) return &t->array[k - 1];
    } else if (std::isnan(key.n)) {
      runerror(L, "table index is NaN");
    }
  } else if (key.tt == kTNil) {
    runerror(L, "table index is nil");
  }
  if (t->hsize) {
    uint32_t i = hash_value(key) & t->hmask;
    Node* dead = nullptr;
    for (;;) {
      Node* n = &t->node[i];
      if (n->key.tt == kTNil) break;
      if (raw_equal(n->key, key)) return &n->val;
      if (!dead && n->val.is_nil()) dead = n;
      i = (i + 1) & t->hmask;
    }
    if (dead) {
      dead->key = key;
      return &dead->val;
    }
    if ((t->hused + 1) * kMaxLoadDen <= t->hsize * kMaxLoadNum) {
      Node* n = &t->node[i];
      n->key = key;
      n->val = Value::nil();
      t->hused++;
      return &n->val;
    }
  }
  rehash(L, t, key);
  return table_slot(L, t, key);
}

void table_set(State* L, Table* t, const Value& key, const Value& val) {
  if (val.is_nil()) {
    // Assigning nil never creates a key (and never triggers a rehash).
    if (key.tt == kTNil) runerror(L, "table index is nil");
    if (key.tt == kTNumber && std::isnan(key.n)) runerror(L, "table index is NaN");
    Value* v = const_cast<Value*>(table_get(t, key));
    if (!v->is_nil()) *v = val;
    return;
  }
  *table_slot(L, t, key) = val;
}

void table_set_int(State* L, Table* t, int64_t key, const Value& val) {
  if (static_cast<uint64_t>(key) - 1 < t->asize) {
    t->array[key - 1] = val;
    return;
  }
  table_set(L, t, Value::number(static_cast<double>(key)), val);
}

void table_set_str(State* L, Table* t, String* key, const Value& val) {
  table_set(L, t, Value::string(key), val);
}

static int64_t unbound_search(Table* t, int64_t j) {
  int64_t i = j;
  j++;
  while (!table_get_int(t, j)->is_nil()) {
    i = j;
    if (j > (int64_t{1} << 52)) {  // overflow guard: linear search
      int64_t k = 1;
      while (!table_get_int(t, k)->is_nil()) k++;
      return k - 1;
    }
    j *= 2;
  }
  while (j - i > 1) {
    int64_t m = (i + j) / 2;
    if (table_get_int(t, m)->is_nil())
      j = m;
    else
      i = m;
  }
  return i;
}

int64_t table_length(Table* t) {
  uint32_t j = t->asize;
  if (j > 0 && t->array[j - 1].is_nil()) {
    uint32_t i = 0;
    while (j - i > 1) {
      uint32_t m = (i + j) / 2;
      if (t->array[m - 1].is_nil())
        j = m;
      else
        i = m;
    }
    return i;
  }
  if (t->hsize == 0) return j;
  return unbound_search(t, j);
}

bool table_next(State* L, Table* t, Value* key, Value* val) {
  uint32_t i = 0;  // index into the combined array+hash sequence
  if (!key->is_nil()) {
    int64_t k;
    if (as_array_index(*key, &k) && static_cast<uint64_t>(k) - 1 < t->asize) {
      i = static_cast<uint32_t>(k);
    } else {
      Node* n = find_node(t, *key);
      if (!n) runerror(L, "invalid key to 'next'");
      i = t->asize + static_cast<uint32_t>(n - t->node) + 1;
    }
  }
  for (; i < t->asize; i++) {
    if (!t->array[i].is_nil()) {
      *key = Value::number(static_cast<double>(i + 1));
      *val = t->array[i];
      return true;
    }
  }
  for (uint32_t h = i - t->asize; h < t->hsize; h++) {
    Node& n = t->node[h];
    if (!n.val.is_nil()) {
      *key = n.key;
      *val = n.val;
      return true;
    }
  }
  return false;
}

}  // namespace jitvm
