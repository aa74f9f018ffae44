#include "jit.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <unistd.h>

#include "code_cache.h"
#include "crash_handler.h"
#include "jit_compiler.h"
#include "vm_internal.h"

namespace jitvm {
namespace jit {

namespace {

constexpr size_t kUniqueTagSize = 8;  // JitOptions::unique_code

enum JitState : uint8_t { kNone = 0, kQueued = 1, kInstalled = 2, kFailed = 3 };

void set_state(Proto* p, uint8_t s) { __atomic_store_n(&p->jit_state, s, __ATOMIC_RELAXED); }
uint8_t get_state(const Proto* p) { return __atomic_load_n(&p->jit_state, __ATOMIC_RELAXED); }

std::string strip_chunk(const String* source) {
  if (!source) return "?";
  std::string s = source->data;
  if (!s.empty() && (s[0] == '@' || s[0] == '=')) s = s.substr(1);
  return s;
}

}  // namespace

std::unique_ptr<Jit> Jit::Create(State* L, const JitOptions& options, std::string* error) {
  if (!__builtin_cpu_supports("sse4.1")) {
    *error = "the baseline JIT needs SSE4.1 (roundsd)";
    return nullptr;
  }
  std::unique_ptr<Jit> jit(new Jit(L, options));
  jit->cache_ = CodeCache::Create(options.cache_size, error,
                                  options.anonymous_code ? CodeCache::Views::kAnonymous : CodeCache::Views::kMemfd);
  if (!jit->cache_) return nullptr;
  jit->thread_ = std::thread([j = jit.get()] {
    InstallCrashAltStack();  // a stack overflow here must reach the crash handler too
    j->CompilerLoop();
  });
  return jit;
}

Jit::~Jit() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  for (JitEventListener* l : listeners_) l->OnJitShutdown();
  for (auto& [p, code] : installed_) {
    for (JitEventListener* l : listeners_) l->OnCodeFreed(code->info);
    __atomic_store_n(&p->jit_code, nullptr, __ATOMIC_RELEASE);
    delete code;
  }
  installed_.clear();
  // Listeners drop what they still hold for freed code (packed debug info) now,
  // while the data region their entries live in is still mapped.
  for (JitEventListener* l : listeners_) l->OnCodeGcDone();
  // Asynchronous listeners finish while the data region is still mapped.
  for (JitEventListener* l : listeners_) l->Sync();
}

void Jit::SyncListeners() {
  // listeners_ only changes during set-up; listeners never take mu_.
  for (JitEventListener* l : listeners_) l->Sync();
}

void Jit::AddListener(JitEventListener* listener) {
  std::lock_guard<std::mutex> lock(mu_);
  listeners_.push_back(listener);
}

void Jit::RequestCompile(Proto* p, bool wait) {
  std::unique_lock<std::mutex> lock(mu_);
  if (get_state(p) != kNone) return;
  set_state(p, kQueued);
  queue_.push_back(p);
  // Notified without the lock, so the compiler thread does not wake only to
  // block on it.
  lock.unlock();
  cv_.notify_one();
  if (!wait) return;
  lock.lock();
  while (get_state(p) == kQueued) {
    auto it = std::find(blocked_.begin(), blocked_.end(), p);
    if (it != blocked_.end()) {
      // The cache is full and we are the VM thread: evict here, then retry.
      size_t before = installed_.size();
      if (before > 0) Evict();
      if (installed_.size() == before) {
        blocked_.erase(it);  // nothing could be freed: this function stays interpreted
        set_state(p, kFailed);
        break;
      }
      for (Proto* b : blocked_) queue_.push_front(b);
      blocked_.clear();
      requests_.store(0, std::memory_order_relaxed);
      cv_.notify_one();
    }
    done_cv_.wait(lock);
  }
}

void Jit::ServiceRequests() {
  std::lock_guard<std::mutex> lock(mu_);
  if (blocked_.empty()) {
    requests_.store(0, std::memory_order_relaxed);
    return;
  }
  size_t before = installed_.size();
  Evict();
  if (installed_.size() == before && before > 0) {
    // Everything installed is on the stack: try again later.
    return;
  }
  for (Proto* b : blocked_) queue_.push_back(b);
  blocked_.clear();
  requests_.store(0, std::memory_order_relaxed);
  cv_.notify_one();
}

void Jit::CompilerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (stop_) return;
    Proto* p = queue_.front();
    queue_.pop_front();
    in_progress_ = p;
    lock.unlock();
    int result = CompileOne(p);
    lock.lock();
    if (result == 2) {
      blocked_.push_back(p);
      requests_.store(1, std::memory_order_relaxed);
    } else if (result == 1) {
      set_state(p, kFailed);
    }
    in_progress_ = nullptr;
    // Woken after the unlock: a waiter woken under the lock would block on it
    // at once (two more futex calls and a context switch per compile).
    lock.unlock();
    done_cv_.notify_all();
    lock.lock();
  }
}

// Returns 0 installed, 1 failed (not compilable), 2 no room in the cache.
int Jit::CompileOne(Proto* p) {
  auto t0 = std::chrono::steady_clock::now();
  CompileOutput out;
  std::string error;
  if (!compile_proto(p, options_.frame_pointers, L_->g->tm_names[TM_INDEX], &L_->g->mt_string, &out, &error)) {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.failed++;
    return 1;
  }
  out.code.flatten();
  out.code.resolveUnresolvedLinks();
  size_t code_size = out.code.codeSize();
  size_t size = code_size + (options_.unique_code ? kUniqueTagSize : 0);
  // Room some listener needs left free after the code (perf inject maps the
  // jitdump unwind data there). The listener list is fixed before compiling starts.
  size_t tail = 0;
  for (JitEventListener* l : listeners_) tail = std::max<size_t>(tail, l->ReservedTailBytes(out.frame, size));
  size_t alloc_size = size + tail;
  uint8_t* rx = cache_->Allocate(alloc_size);
  if (!rx) return 2;
  out.code.relocateToBase(reinterpret_cast<uint64_t>(rx));
  out.code.copyFlattenedData(cache_->Writable(rx), code_size, asmjit::CopySectionFlags::kPadSectionBuffer);
  if (options_.unique_code) {
    uint64_t tag = (static_cast<uint64_t>(getpid()) << 32) | ++next_code_serial_;
    std::memcpy(cache_->Writable(rx) + code_size, &tag, sizeof(tag));
  }
  if (!cache_->Publish(rx, size)) {
    cache_->Free(rx, alloc_size);
    std::lock_guard<std::mutex> lock(mu_);
    stats_.failed++;
    return 1;
  }
  auto* code = new JitCode();
  code->proto = p;
  code->rx = rx;
  code->size = alloc_size;
  code->entry = reinterpret_cast<JitEntry>(rx + out.code.labelOffset(out.entry));
  code->call.entry = code->entry;
  code->call.body_entry = rx + out.code.labelOffset(out.body_entry);
  code->call.code = p->code.data();
  code->call.call_count = &p->call_count;
  code->call.maxstacksize = p->maxstacksize;
  code->call.numparams = p->numparams;
  code->call.fixed_arity = p->is_vararg ? 0 : 1;
  if (static_cast<void*>(&code->call) != static_cast<void*>(code)) std::abort();  // generated code relies on it
  code->pc_offsets.reserve(out.osr_labels.size());
  for (const asmjit::Label& l : out.osr_labels)
    code->pc_offsets.push_back(l.isValid() ? static_cast<uint32_t>(out.code.labelOffset(l)) : kNoOsrEntry);
  code->info.address = reinterpret_cast<uint64_t>(rx);
  code->info.size = size;
  code->info.tier = jitscope::CodeTier::kBaseline;
  code->info.source = strip_chunk(p->source);
  code->info.first_line = static_cast<uint32_t>(p->linedefined);
  code->info.id = p->id;
  code->info.frame = std::move(out.frame);
  code->info.lines = std::move(out.lines);
  code->info.code_bytes = rx;
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
  {
    std::lock_guard<std::mutex> lock(mu_);
    code->info.name = NameFor(p);
  }
  // Listeners hear of the code before anything can run it, but without the
  // JIT's lock: registering debug info takes microseconds, and the VM thread
  // takes this lock to queue every hot function (and to free code in a GC),
  // so under the lock it would wait for the listeners. Nothing can free this
  // code before it is installed below, so its OnCodeLoaded always comes
  // before its OnCodeFreed; its memory was freed (OnCodeFreed of the code
  // that had it, then CodeCache::Free) before Allocate returned it. p stays
  // a GC root meanwhile (in_progress_). Loads are reported on this thread
  // only; listeners lock what they share with OnCodeFreed themselves.
  for (JitEventListener* l : listeners_) l->OnCodeLoaded(code->info);
  std::lock_guard<std::mutex> lock(mu_);
  installed_[p] = code;
  stats_.compiled++;
  stats_.compile_ns += static_cast<uint64_t>(ns);
  stats_.bytecodes += p->code.size();
  stats_.code_bytes += size;
  set_state(p, kInstalled);
  __atomic_store_n(&p->jit_code, static_cast<void*>(code), __ATOMIC_RELEASE);
  return 0;
}

std::string Jit::NameFor(Proto* p) {
  std::string name = p->name.empty() ? "anon@" + strip_chunk(p->source) + ":" + std::to_string(p->linedefined) : p->name;
  auto it = names_.find(name);
  if (it != names_.end() && it->second != p) name += "#" + std::to_string(p->id);
  names_[name] = p;
  return name;
}

bool Jit::OnStack(const JitCode* code) const {
  for (CallInfo* ci = L_->base_ci; ci <= L_->ci; ci++)
    if (ci->jit == code) return true;
  return false;
}

void Jit::FreeCode(JitCode* code, bool evicted) {
  Proto* p = code->proto;
  __atomic_store_n(&p->jit_code, nullptr, __ATOMIC_RELEASE);
  for (JitEventListener* l : listeners_) l->OnCodeFreed(code->info);
  cache_->Free(code->rx, code->size);
  stats_.freed++;
  stats_.freed_bytes += code->size;
  auto it = names_.find(code->info.name);
  if (it != names_.end() && it->second == p) names_.erase(it);
  installed_.erase(p);
  if (evicted) {
    // Recompiled when it becomes hot again.
    p->call_count = 0;
    p->backedges = 0;
    set_state(p, kNone);
  }
  delete code;
}

void Jit::Evict() {
  std::vector<JitCode*> candidates;
  for (auto& [p, code] : installed_)
    if (!OnStack(code)) candidates.push_back(code);
  // Coldest first: fewest calls (counts restart when a function is evicted).
  std::sort(candidates.begin(), candidates.end(), [](const JitCode* a, const JitCode* b) {
    return a->proto->call_count < b->proto->call_count;
  });
  size_t n = (candidates.size() + 1) / 2;
  for (size_t i = 0; i < n; i++) FreeCode(candidates[i], /*evicted=*/true);
  stats_.evictions++;
}

void Jit::OnProtoFree(Proto* p) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = installed_.find(p);
  if (it != installed_.end()) {
    FreeCode(it->second, /*evicted=*/false);
    freed_in_gc_ = true;
  }
  queue_.erase(std::remove(queue_.begin(), queue_.end(), p), queue_.end());
  blocked_.erase(std::remove(blocked_.begin(), blocked_.end(), p), blocked_.end());
}

void Jit::AfterGc() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!freed_in_gc_) return;
  freed_in_gc_ = false;
  for (JitEventListener* l : listeners_) l->OnCodeGcDone();
}

void Jit::FlushAll() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<JitCode*> all;
  for (auto& [p, code] : installed_)
    if (!OnStack(code)) all.push_back(code);
  for (JitCode* c : all) FreeCode(c, /*evicted=*/true);
  if (!all.empty())
    for (JitEventListener* l : listeners_) l->OnCodeGcDone();
}

std::vector<jitscope::CodeInfo> Jit::InstalledCode() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<jitscope::CodeInfo> out;
  for (auto& [p, code] : installed_) out.push_back(code->info);
  return out;
}

bool Jit::IsJitPc(uintptr_t pc) { return cache_->Contains(pc); }

void Jit::PrintStats(FILE* out) {
  std::lock_guard<std::mutex> lock(mu_);
  double ms = static_cast<double>(stats_.compile_ns) / 1e6;
  fprintf(out,
          "jit: compiled %llu functions (%llu failed), %llu bytecodes -> %llu code bytes (%.1f bytes/bytecode)\n"
          "jit: compile time %.2f ms total, %.1f us/function\n"
          "jit: freed %llu functions (%llu bytes), %llu evictions, %llu OSR entries, %zu installed now\n",
          static_cast<unsigned long long>(stats_.compiled), static_cast<unsigned long long>(stats_.failed),
          static_cast<unsigned long long>(stats_.bytecodes), static_cast<unsigned long long>(stats_.code_bytes),
          stats_.bytecodes ? static_cast<double>(stats_.code_bytes) / static_cast<double>(stats_.bytecodes) : 0.0, ms,
          stats_.compiled ? ms * 1000.0 / static_cast<double>(stats_.compiled) : 0.0,
          static_cast<unsigned long long>(stats_.freed), static_cast<unsigned long long>(stats_.freed_bytes),
          static_cast<unsigned long long>(stats_.evictions), static_cast<unsigned long long>(stats_.osr_entries),
          installed_.size());
}

}  // namespace jit
}  // namespace jitvm
