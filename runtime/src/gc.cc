// Precise, non-moving, stop-the-world mark & sweep collector.
//
// Why stop-the-world at safe points: collection only starts where every live
// value is on the Lua stack or reachable from a root (see value.h), which keeps
// natives and the compiler free of write barriers and handles. Objects never
// move, so JIT code and debug-info listeners can hold raw pointers.
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#include "jit/jit.h"
#include "vm_internal.h"

namespace jitvm {

namespace {

constexpr uint8_t kMarked = 1;
constexpr uint8_t kFixed = 4;
constexpr uint8_t kFinalized = 8;  // __gc already ran (Lua 5.1 runs it once)
constexpr size_t kMinThreshold = 1u << 20;  // no collection below 1 MiB in use

struct Marker {
  State* L;
  std::vector<GCObject*> gray;
  std::vector<Table*> weak;  // tables with __mode, cleared after marking

  // Lua 5.1's weakness: 'k' and/or 'v' in the metatable's __mode string.
  int weak_mode(Table* t) {
    Table* mt = t->metatable;
    if (!mt || (mt->flags & (1u << TM_MODE))) return 0;
    const Value* mode = table_get_str(mt, L->g->tm_names[TM_MODE]);
    if (mode->is_nil()) mt->flags |= static_cast<uint8_t>(1u << TM_MODE);  // as fast_tm caches it
    if (!mode->is_string()) return 0;
    int m = 0;
    if (strchr(mode->as_string()->data, 'k')) m |= 1;
    if (strchr(mode->as_string()->data, 'v')) m |= 2;
    return m;
  }

  void mark_obj(GCObject* o) {
    if (!o || (o->marked & kMarked)) return;
    o->marked |= kMarked;
    if (o->tag == kTString) return;  // no references
    gray.push_back(o);
  }
  void mark(const Value& v) {
    if (v.is_collectable()) mark_obj(v.gc);
  }
  void mark_table(Table* t) {
    if (t) mark_obj(&t->hdr);
  }
  void traverse(GCObject* o) {
    switch (o->tag) {
      case kTTable: {
        Table* t = reinterpret_cast<Table*>(o);
        mark_table(t->metatable);
        int mode = weak_mode(t);
        if (mode) weak.push_back(t);
        bool wk = mode & 1, wv = mode & 2;
        // The objects a few slots ahead are prefetched: marking reads each
        // one's header, a cache miss per object otherwise taken one at a time.
        constexpr uint32_t kAhead = 8;
        if (!wv) {
          const Value* arr = t->array;
          uint32_t n = t->asize;
          for (uint32_t i = 0; i < n; i++) {
            if (i + kAhead < n && arr[i + kAhead].is_collectable()) __builtin_prefetch(arr[i + kAhead].gc, 1);
            mark(arr[i]);
          }
        }
        for (uint32_t i = 0; i < t->hsize; i++) {
          if (i + kAhead < t->hsize) {
            const Node& ahead = t->node[i + kAhead];
            if (ahead.key.is_collectable()) __builtin_prefetch(ahead.key.gc, 1);
            if (ahead.val.is_collectable()) __builtin_prefetch(ahead.val.gc, 1);
          }
          Node& n = t->node[i];
          // Dead keys (nil value) stay alive until the next rehash drops them, so
          // `next` can continue from a key assigned nil during a traversal.
          if (!wk || n.key.is_string()) mark(n.key);
          if (!wv || n.val.is_string()) mark(n.val);
        }
        break;
      }
      case kTFunction: {
        Closure* c = reinterpret_cast<Closure*>(o);
        mark_table(c->env);
        if (c->is_native) {
          for (int i = 0; i < c->nupvalues; i++) mark(c->cupvals[i]);
        } else {
          mark_obj(&c->proto->hdr);
          for (int i = 0; i < c->nupvalues; i++)
            if (c->upvals[i]) mark_obj(&c->upvals[i]->hdr);
        }
        break;
      }
      case kTProto: {
        Proto* p = reinterpret_cast<Proto*>(o);
        if (p->source) mark_obj(&p->source->hdr);
        for (const Value& k : p->k) mark(k);
        for (Proto* c : p->p) mark_obj(&c->hdr);
        for (const LocVar& v : p->locvars)
          if (v.name) mark_obj(&v.name->hdr);
        for (String* s : p->upvalues)
          if (s) mark_obj(&s->hdr);
        break;
      }
      case kTUpval: {
        UpVal* uv = reinterpret_cast<UpVal*>(o);
        mark(*uv->v);
        break;
      }
      case kTUserdata: {
        Userdata* u = reinterpret_cast<Userdata*>(o);
        mark_table(u->metatable);
        mark_table(u->env);
        break;
      }
      default:
        break;
    }
  }
  // A weak reference is cleared when its object is unmarked; strings are values
  // in Lua 5.1's weakness rules and are never cleared.
  static bool is_cleared(const Value& v) {
    return v.is_collectable() && !v.is_string() && !(v.gc->marked & (kMarked | kFixed));
  }
  void clear_weak() {
    for (Table* t : weak) {
      for (uint32_t i = 0; i < t->asize; i++) {
        if (is_cleared(t->array[i])) t->array[i] = Value::nil();
        else mark(t->array[i]);  // strings in the array part
      }
      for (uint32_t i = 0; i < t->hsize; i++) {
        Node& n = t->node[i];
        if (n.val.is_nil()) continue;
        if (is_cleared(n.key) || is_cleared(n.val)) {
          n.val = Value::nil();
          // The key is dead now; make it a non-collectable tombstone so the sweep
          // may free its object (it will never compare equal to a live key).
          if (n.key.is_collectable() && !n.key.is_string()) n.key.tt = kTLightUserdata;
        } else {
          mark(n.key);
          mark(n.val);
        }
      }
    }
    propagate();
  }
  void propagate() {
    while (!gray.empty()) {
      GCObject* o = gray.back();
      gray.pop_back();
      traverse(o);
    }
  }
};

void free_object(State* L, GCObject* o) {
  Global* g = L->g;
  switch (o->tag) {
    case kTString: {
      String* s = reinterpret_cast<String*>(o);
      strings_remove(g, s);
      size_t bytes = offsetof(String, data) + s->len + 1;
      g->total_bytes -= bytes;
      g->pool.free(s, bytes);
      break;
    }
    case kTTable:
      table_free(L, reinterpret_cast<Table*>(o));
      break;
    case kTFunction: {
      Closure* c = reinterpret_cast<Closure*>(o);
      size_t bytes = offsetof(Closure, cupvals) + sizeof(Value) * (c->nupvalues > 0 ? c->nupvalues : 1);
      g->total_bytes -= bytes;
      g->pool.free(c, bytes);
      break;
    }
    case kTProto: {
      Proto* p = reinterpret_cast<Proto*>(o);
      if (g->jit) g->jit->OnProtoFree(p);
      unregister_chunk_source(L, p);
      if (g->on_proto_free) g->on_proto_free(g->on_proto_free_ctx, p);
      g->total_bytes -= sizeof(Proto);
      delete p;
      break;
    }
    case kTUpval:
      g->total_bytes -= sizeof(UpVal);
      g->pool.free(o, sizeof(UpVal));
      break;
    case kTUserdata: {
      Userdata* u = reinterpret_cast<Userdata*>(o);
      if (u->finalizer) u->finalizer(u->data);
      size_t bytes = offsetof(Userdata, data) + u->size;
      g->total_bytes -= bytes;
      g->pool.free(u, bytes);
      break;
    }
    default:
      free(o);
      break;
  }
}

void sweep(State* L, GCObject** pp) {
  while (GCObject* o = *pp) {
    if (o->marked & (kMarked | kFixed)) {
      o->marked &= static_cast<uint8_t>(~kMarked);
      pp = &o->gc_next;
    } else {
      *pp = o->gc_next;
      free_object(L, o);
    }
  }
}

// Sweeps g->all in place, keeping the survivors in order. The header of the
// object kAhead places on is prefetched, so that many cache misses are in
// flight at once (a list walk has exactly one).
void sweep_all(State* L) {
  Global* g = L->g;
  constexpr size_t kAhead = 12;
  size_t n = g->all_count, j = 0;
  for (size_t i = 0; i < n; i++) {
    // Reloaded each time: free_object runs listeners, and nothing here may
    // assume that they never allocate (a new object is appended past n).
    GCObject** v = g->all;
    if (i + kAhead < n) __builtin_prefetch(v[i + kAhead], 1);
    GCObject* o = v[i];
    if (o->marked & (kMarked | kFixed)) {
      o->marked &= static_cast<uint8_t>(~kMarked);
      v[j++] = o;
    } else {
      free_object(L, o);
    }
  }
  size_t added = g->all_count - n;
  if (added) memmove(g->all + j, g->all + n, added * sizeof(GCObject*));
  g->all_count = j + added;
}

void free_list(State* L, GCObject* o) {
  while (o) {
    GCObject* next = o->gc_next;
    free_object(L, o);
    o = next;
  }
}

// Calls __gc(u) for each userdata (GCTM). Errors propagate as in Lua 5.1, except
// at state close where they are ignored.
void run_finalizers(State* L, const std::vector<Userdata*>& list, bool protect) {
  for (Userdata* u : list) {
    u->hdr.marked |= kFinalized;
    if (!u->metatable) continue;
    const Value* tm = table_get_str(u->metatable, L->g->tm_names[TM_GC]);
    if (tm->is_nil()) continue;
    Value* func = L->top;
    func[0] = *tm;
    func[1] = Value::object(&u->hdr);
    L->top = func + 2;
    if (protect) {
      vm_pcall(L, func, 0, nullptr);
    } else {
      vm_call(L, func, 0);
    }
    L->top = func;
  }
}

}  // namespace

void gc_link_slow(State* L, GCObject* o, uint8_t tag, size_t bytes) {
  Global* g = L->g;
  if (__builtin_expect(L->hook_budget > 0, 0)) {
    // The fuzzer's budget also pays for allocation (1 unit per 256 bytes), so a
    // few iterations that build huge strings end as quickly as long loops.
    int64_t cost = static_cast<int64_t>(bytes >> 8);
    L->hook_budget = cost >= L->hook_budget ? 1 : L->hook_budget - static_cast<int>(cost);
  }
  o->tag = tag;
  o->marked = 0;
  if (tag == kTUserdata) {
    o->gc_next = g->udata;
    g->udata = o;
  } else {
    if (__builtin_expect(g->all_count == g->all_cap, 0)) {
      size_t cap = g->all_cap ? g->all_cap * 2 : 4096;
      void* na = realloc(g->all, cap * sizeof(GCObject*));
      if (!na) throw std::bad_alloc();  // o is in the pool, released with the state
      g->all = static_cast<GCObject**>(na);
      g->all_cap = cap;
    }
    g->all[g->all_count++] = o;
  }
  g->total_bytes += bytes;
  // Past the limit: no collection here (this is not a safe point). The object
  // is linked anyway so that it is freed with the state, then the memory error
  // is raised.
  if (__builtin_expect(g->total_bytes > g->max_bytes, 0)) throw std::bad_alloc();
}

void gc_collect(State* L) {
  Global* g = L->g;
  if (g->gc_running) return;
  g->gc_running = true;
  Marker m{L, {}, {}};
  m.mark(L->globals);
  m.mark(L->registry);
  m.mark(L->error_slot);
  m.mark_table(g->mt_string);
  // The stack: every slot up to the highest live extent; stale slots above it are cleared
  // so that a later frame never exposes a pointer to a freed object.
  Value* extent = L->top;
  for (CallInfo* ci = L->base_ci; ci <= L->ci; ci++) {
    if (ci_is_lua(ci) && ci->top > extent) extent = ci->top;
    m.mark(*ci->func);
  }
  for (Value* v = L->stack; v < extent; v++) m.mark(*v);
  for (Value* v = extent; v < L->stack_hwm; v++) *v = Value::nil();
  for (UpVal* uv = L->open_upval; uv; uv = uv->next_open) m.mark_obj(&uv->hdr);
  // Prototypes waiting for (or in) compilation stay alive until the compiler is done.
  if (g->jit) g->jit->ForEachPendingProto([&m](Proto* p) { m.mark_obj(&p->hdr); });
  m.propagate();
  // Unreachable userdata with a __gc metamethod are resurrected until their
  // finalizer has run (separateudata). Userdata have their own list so that this
  // does not walk every object.
  std::vector<Userdata*> to_finalize;
  for (GCObject* o = g->udata; o; o = o->gc_next) {
    if (o->marked & (kMarked | kFixed | kFinalized)) continue;
    Userdata* u = reinterpret_cast<Userdata*>(o);
    if (u->metatable && !table_get_str(u->metatable, g->tm_names[TM_GC])->is_nil()) to_finalize.push_back(u);
  }
  if (!to_finalize.empty()) {
    for (Userdata* u : to_finalize) m.mark_obj(&u->hdr);
    m.propagate();
  }
  m.clear_weak();
  sweep_all(L);
  sweep(L, &g->udata);
  g->gc_cycles++;
  size_t t = g->total_bytes / 100 * static_cast<size_t>(g->gc_pause);
  g->gc_threshold = t > kMinThreshold ? t : kMinThreshold;
  g->gc_running = false;
  if (g->jit) g->jit->AfterGc();
  run_finalizers(L, to_finalize, /*protect=*/false);
}

void gc_step(State* L) { gc_collect(L); }

void gc_free_all(State* L) {
  Global* g = L->g;
  // lua_close runs every pending __gc first.
  std::vector<Userdata*> pending;
  for (GCObject* o = g->udata; o; o = o->gc_next)
    if (!(o->marked & kFinalized)) pending.push_back(reinterpret_cast<Userdata*>(o));
  g->gc_running = true;  // no collection while finalizing at close
  run_finalizers(L, pending, /*protect=*/true);
  g->on_proto_free = nullptr;
  for (size_t i = 0; i < g->all_count; i++) free_object(L, g->all[i]);
  free(g->all);
  g->all = nullptr;
  g->all_count = g->all_cap = 0;
  free_list(L, g->udata);
  g->udata = nullptr;
}

}  // namespace jitvm
