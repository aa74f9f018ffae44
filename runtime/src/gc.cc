// Precise, non-moving, stop-the-world mark & sweep collector.
//
// Why stop-the-world at safe points: collection only starts where every live
// value is on the Lua stack or reachable from a root (see value.h), which keeps
// natives and the compiler free of write barriers and handles. Objects never
// move, so JIT code and debug-info listeners can hold raw pointers.
#include <cstdlib>
#include <vector>

#include "vm_internal.h"

namespace jitvm {

namespace {

constexpr uint8_t kMarked = 1;
constexpr uint8_t kFixed = 4;
constexpr size_t kMinThreshold = 1u << 20;  // no collection below 1 MiB in use

struct Marker {
  State* L;
  std::vector<GCObject*> gray;

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
        for (uint32_t i = 0; i < t->asize; i++) mark(t->array[i]);
        for (uint32_t i = 0; i < t->hsize; i++) {
          Node& n = t->node[i];
          // Dead keys (nil value) stay alive until the next rehash drops them, so
          // `next` can continue from a key assigned nil during a traversal.
          mark(n.key);
          mark(n.val);
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
      g->total_bytes -= offsetof(String, data) + s->len + 1;
      free(s);
      break;
    }
    case kTTable:
      table_free(L, reinterpret_cast<Table*>(o));
      break;
    case kTFunction: {
      Closure* c = reinterpret_cast<Closure*>(o);
      g->total_bytes -= offsetof(Closure, cupvals) + sizeof(Value) * (c->nupvalues > 0 ? c->nupvalues : 1);
      free(c);
      break;
    }
    case kTProto: {
      Proto* p = reinterpret_cast<Proto*>(o);
      if (g->on_proto_free) g->on_proto_free(g->on_proto_free_ctx, p);
      g->total_bytes -= sizeof(Proto);
      delete p;
      break;
    }
    case kTUpval:
      g->total_bytes -= sizeof(UpVal);
      free(o);
      break;
    case kTUserdata: {
      Userdata* u = reinterpret_cast<Userdata*>(o);
      if (u->finalizer) u->finalizer(u->data);
      g->total_bytes -= offsetof(Userdata, data) + u->size;
      free(u);
      break;
    }
    default:
      free(o);
      break;
  }
}

}  // namespace

void gc_link(State* L, GCObject* o, uint8_t tag, size_t bytes) {
  Global* g = L->g;
  o->tag = tag;
  o->marked = 0;
  o->gc_next = g->all;
  g->all = o;
  g->total_bytes += bytes;
}

void gc_collect(State* L) {
  Global* g = L->g;
  if (g->gc_running) return;
  g->gc_running = true;
  Marker m{L, {}};
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
  m.propagate();
  // Sweep.
  GCObject** pp = &g->all;
  while (GCObject* o = *pp) {
    if (o->marked & (kMarked | kFixed)) {
      o->marked &= static_cast<uint8_t>(~kMarked);
      pp = &o->gc_next;
    } else {
      *pp = o->gc_next;
      free_object(L, o);
    }
  }
  g->gc_cycles++;
  size_t t = g->total_bytes / 100 * static_cast<size_t>(g->gc_pause);
  g->gc_threshold = t > kMinThreshold ? t : kMinThreshold;
  g->gc_running = false;
}

void gc_step(State* L) { gc_collect(L); }

void gc_free_all(State* L) {
  Global* g = L->g;
  GCObject* o = g->all;
  g->on_proto_free = nullptr;
  while (o) {
    GCObject* next = o->gc_next;
    free_object(L, o);
    o = next;
  }
  g->all = nullptr;
}

}  // namespace jitvm
