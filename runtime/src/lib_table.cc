// The Lua 5.1 `table` library (ltablib.c semantics, messages included).
#include <string>

#include "api.h"

namespace jitvm {

namespace {

int check_int(State* L, int i) { return static_cast<int>(check_integer(L, i)); }

int aux_getn(State* L, int i) { return static_cast<int>(table_length(check_table(L, i))); }

Value raw_geti(Table* t, int64_t i) { return *table_get_int(t, i); }

int tab_getn(State* L) {
  push_number(L, aux_getn(L, 1));
  return 1;
}

int tab_setn(State* L) {
  check_table(L, 1);
  error(L, "'setn' is obsolete");
}

int tab_maxn(State* L) {
  Table* t = check_table(L, 1);
  double max = 0;
  Value key = Value::nil();
  Value val;
  while (table_next(L, t, &key, &val)) {
    if (key.is_number() && key.n > max) max = key.n;
  }
  push_number(L, max);
  return 1;
}

int tab_insert(State* L) {
  Table* t = check_table(L, 1);
  int e = static_cast<int>(table_length(t)) + 1;  // first empty element
  int pos;
  switch (nargs(L)) {
    case 2:
      pos = e;
      break;
    case 3: {
      pos = check_int(L, 2);
      if (pos > e) e = pos;  // grow the array if needed
      for (int i = e; i > pos; i--) table_set_int(L, t, i, raw_geti(t, i - 1));
      break;
    }
    default:
      error(L, "wrong number of arguments to 'insert'");
  }
  table_set_int(L, t, pos, L->top[-1]);
  return 0;
}

int tab_remove(State* L) {
  Table* t = check_table(L, 1);
  int e = static_cast<int>(table_length(t));
  int pos = static_cast<int>(opt_integer(L, 2, e));
  if (!(1 <= pos && pos <= e)) return 0;  // nothing to remove
  push(L, raw_geti(t, pos));
  for (; pos < e; pos++) table_set_int(L, t, pos, raw_geti(t, pos + 1));
  table_set_int(L, t, e, Value::nil());
  return 1;
}

void add_concat_item(State* L, std::string* b, Table* t, int i) {
  Value v = raw_geti(t, i);
  if (v.is_string()) {
    b->append(v.as_string()->data, v.as_string()->len);
  } else if (v.is_number()) {
    char buf[64];
    b->append(buf, static_cast<size_t>(number2str(v.n, buf)));
  } else {
    // Debian's lua5.1 (the reference we compare with) names the offending type.
    error(L, "invalid value (%s) at index %d in table for 'concat'", type_name(v.tt), i);
  }
}

int tab_concat(State* L) {
  String* sep_s = opt_string(L, 2, nullptr);
  std::string_view sep = sep_s ? std::string_view(sep_s->data, sep_s->len) : std::string_view();
  Table* t = check_table(L, 1);
  int i = static_cast<int>(opt_integer(L, 3, 1));
  int last = arg_absent(L, 4) ? static_cast<int>(table_length(t)) : check_int(L, 4);
  std::string b;
  for (; i < last; i++) {
    add_concat_item(L, &b, t, i);
    b.append(sep);
  }
  if (i == last) add_concat_item(L, &b, t, i);  // the last one has no separator
  push_string(L, b);
  return 1;
}

int tab_foreachi(State* L) {
  Table* t = check_table(L, 1);
  int n = static_cast<int>(table_length(t));
  check_type(L, 2, kTFunction);
  for (int i = 1; i <= n; i++) {
    Value* f = L->top;
    push(L, arg(L, 2));
    push_number(L, i);
    push(L, raw_geti(t, i));
    vm_call(L, f, 1);
    if (!f->is_nil()) return 1;
    L->top = f;
  }
  return 0;
}

int tab_foreach(State* L) {
  Table* t = check_table(L, 1);
  check_type(L, 2, kTFunction);
  // The current key lives on the stack so it stays alive while Lua runs.
  Value* key = L->top;
  push_nil(L);
  Value val;
  while (table_next(L, t, key, &val)) {
    Value* f = L->top;
    push(L, arg(L, 2));
    push(L, *key);
    push(L, val);
    vm_call(L, f, 1);
    if (!f->is_nil()) return 1;
    L->top = f;
  }
  return 0;
}

// Lua 5.1's quicksort (auxsort), step for step, so comparator calls happen in
// the same order and "invalid order function" is raised in the same cases.
// Values being moved live in stack slots (pivot, a, b) so a comparator that
// runs the GC cannot free them.
class Sorter {
 public:
  Sorter(State* L, Table* t) : L_(L), t_(t) {
    has_cmp_ = !arg_absent(L, 2);
    cmp_ = L->base + 1;
    slots_ = L->top;
    for (int i = 0; i < 3; i++) push_nil(L);
  }

  void sort(int l, int u) {
    Value& pivot = slots_[0];
    Value& a = slots_[1];
    Value& b = slots_[2];
    while (l < u) {
      // Order a[l], a[(l+u)/2] and a[u].
      a = get(l);
      b = get(u);
      if (less(b, a)) set2(l, b, u, a);
      if (u - l == 1) break;  // only two elements
      int i = (l + u) / 2;
      a = get(i);
      b = get(l);
      if (less(a, b)) {
        set2(i, b, l, a);
      } else {
        b = get(u);
        if (less(b, a)) set2(i, b, u, a);
      }
      if (u - l == 2) break;  // only three elements
      pivot = get(i);
      a = get(u - 1);
      set2(i, a, u - 1, pivot);
      // Invariant: a[l..i] <= pivot <= a[j..u]; only l+1..u-2 needs sorting.
      i = l;
      int j = u - 1;
      for (;;) {
        for (;;) {
          a = get(++i);
          if (!less(a, pivot)) break;
          if (i > u) error(L_, "invalid order function for sorting");
        }
        for (;;) {
          b = get(--j);
          if (!less(pivot, b)) break;
          if (j < l) error(L_, "invalid order function for sorting");
        }
        if (j < i) break;
        set2(i, b, j, a);
      }
      a = get(u - 1);
      b = get(i);
      set2(u - 1, b, i, a);
      // Recurse into the smaller half, loop on the larger one.
      if (i - l < u - i) {
        j = l;
        i = i - 1;
        l = i + 2;
      } else {
        j = i + 1;
        i = u;
        u = j - 2;
      }
      sort(j, i);
    }
  }

 private:
  Value get(int i) { return raw_geti(t_, i); }

  // t[i] = vi; t[j] = vj (set2 of ltablib.c, in its order).
  void set2(int i, const Value& vi, int j, const Value& vj) {
    Value x = vi;
    Value y = vj;
    table_set_int(L_, t_, i, x);
    table_set_int(L_, t_, j, y);
  }

  bool less(const Value& x, const Value& y) {
    if (!has_cmp_) return vm_less_than(L_, x, y);
    Value* f = L_->top;
    push(L_, *cmp_);
    push(L_, x);
    push(L_, y);
    vm_call(L_, f, 1);
    bool r = !f->is_falsy();
    L_->top = f;
    return r;
  }

  State* L_;
  Table* t_;
  bool has_cmp_;
  Value* cmp_;
  Value* slots_;
};

int tab_sort(State* L) {
  Table* t = check_table(L, 1);
  int n = static_cast<int>(table_length(t));
  check_stack(L, 40);
  if (!arg_absent(L, 2)) check_type(L, 2, kTFunction);
  // settop(2): the comparator (or nil) is at base[1] and nothing is above it.
  while (nargs(L) < 2) push_nil(L);
  L->top = L->base + 2;
  Sorter sorter(L, t);
  sorter.sort(1, n);
  return 0;
}

const NativeReg kTableLib[] = {
    {"concat", tab_concat},
    {"foreach", tab_foreach},
    {"foreachi", tab_foreachi},
    {"getn", tab_getn},
    {"maxn", tab_maxn},
    {"insert", tab_insert},
    {"remove", tab_remove},
    {"setn", tab_setn},
    {"sort", tab_sort},
    {nullptr, nullptr},
};

}  // namespace

void open_table(State* L) { register_lib(L, "table", kTableLib); }

}  // namespace jitvm
