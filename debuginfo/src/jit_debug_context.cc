#include "debuginfo/jit_debug_context.h"

#include <chrono>
#include <cstdlib>
#include <cstring>

#include "debuginfo/elf_writer.h"

namespace jitscope {

namespace {
uint64_t now_ns() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}
}  // namespace

JitDebugContext::JitDebugContext(JitDescriptorWriter* writer, const JitDebugOptions& options, Alloc alloc,
                                 Free free_fn, void* alloc_ctx)
    : writer_(writer), options_(options), alloc_(alloc), free_(free_fn), alloc_ctx_(alloc_ctx) {}

JitDebugContext::~JitDebugContext() {
  std::lock_guard<std::mutex> lock(mu_);
  for (Group* g : std::set<Group*>(groups_)) Unregister(g);
}

void JitDebugContext::DetachAllocator() {
  std::lock_guard<std::mutex> lock(mu_);
  // Files already in the allocator's memory stay registered until unregistered,
  // but are never handed back to it.
  for (Group* g : groups_)
    if (g->from_alloc) g->from_alloc = false, g->symfile = nullptr;
  alloc_ = nullptr;
  free_ = nullptr;
}

void JitDebugContext::SetOptions(const JitDebugOptions& options) {
  std::lock_guard<std::mutex> lock(mu_);
  options_ = options;
}

JitDebugContext::Group* JitDebugContext::Register(std::vector<uint8_t> bytes, Group::Kind kind, uint64_t range,
                                                  const std::vector<const CodeInfo*>& codes) {
  if (bytes.empty()) return nullptr;
  auto* g = new Group();
  g->kind = kind;
  g->range = range;
  g->size = bytes.size();
  g->symfile = alloc_ ? alloc_(alloc_ctx_, bytes.size()) : nullptr;
  g->from_alloc = g->symfile != nullptr;
  if (!g->symfile) g->symfile = static_cast<uint8_t*>(malloc(bytes.size()));
  if (!g->symfile) {
    delete g;
    return nullptr;
  }
  memcpy(g->symfile, bytes.data(), bytes.size());
  g->entry = writer_->Register(g->symfile, g->size);
  for (const CodeInfo* c : codes) g->codes.insert(c->address);
  groups_.insert(g);
  switch (kind) {
    case Group::kSingle: stats_.unpacked_bytes += g->size; break;
    case Group::kPacked: stats_.packed_bytes += g->size; break;
    case Group::kCompressed: stats_.compressed_bytes += g->size; break;
  }
  return g;
}

void JitDebugContext::Unregister(Group* g) {
  if (g->entry) writer_->Unregister(g->entry);
  switch (g->kind) {
    case Group::kSingle: stats_.unpacked_bytes -= g->size; break;
    case Group::kPacked: stats_.packed_bytes -= g->size; break;
    case Group::kCompressed: stats_.compressed_bytes -= g->size; break;
  }
  // Only after the entry is unlinked and invalid may its file's memory be reused.
  if (g->from_alloc) {
    if (free_) free_(alloc_ctx_, g->symfile, g->size);
  } else {
    free(g->symfile);
  }
  for (uint64_t a : g->codes) {
    auto it = covering_.find(a);
    if (it != covering_.end() && it->second == g) covering_.erase(it);
  }
  groups_.erase(g);
  delete g;
}

bool JitDebugContext::AddCode(const CodeInfo& code) {
  if (code.size == 0) return false;
  std::lock_guard<std::mutex> lock(mu_);
  if (live_.count(code.address)) return false;
  uint64_t t0 = now_ns();
  CodeInfo& info = live_[code.address];
  info = code;
  info.code_bytes = nullptr;  // not kept: the code may be freed before we are told
  ElfWriterOptions opts;
  opts.full = options_.full;
  opts.comp_dir = options_.comp_dir;
  uint64_t range = code.address >> options_.range_bits;
  last_range_ = range;
  generation_[range]++;
  Group* g = Register(WriteMiniDebugInfo({&info}, opts), Group::kSingle, range, {&info});
  if (g) covering_[code.address] = g;
  if (!options_.full && options_.pack && ++new_since_pack_ >= options_.pack_every) {
    new_since_pack_ = 0;
    if (options_.deferred) {
      pack_due_ = true;
    } else {
      std::vector<Rebuild> plan = Plan(/*with_singles=*/true);
      Build(plan);
      Apply(plan);
    }
  }
  stats_.build_ns += now_ns() - t0;
  return true;
}

// Packing merges every range holding single-function entries or symbols of
// freed code. Compression (after free, or kAlways) also rebuilds packed groups
// as compressed ones. ART compresses only after a code GC and leaves the
// group of the newest code; beyond ART, kAfterFree compresses at every pack
// all ranges but the one new code is going into (they are stable), so
// long-running programs without code GC get compressed debug info too.
std::vector<JitDebugContext::Rebuild> JitDebugContext::Plan(bool with_singles) {
  std::set<uint64_t> ranges = dirty_ranges_;
  dirty_ranges_.clear();
  bool compress = !options_.full && options_.compress != CompressPolicy::kOff;
  bool always = options_.compress == CompressPolicy::kAlways;
  for (Group* g : groups_) {
    if (with_singles && g->kind == Group::kSingle) ranges.insert(g->range);
    if (compress && g->kind == Group::kPacked && (always || g->range != last_range_)) ranges.insert(g->range);
  }
  std::vector<Rebuild> plan;
  for (uint64_t range : ranges) {
    Rebuild r;
    r.range = range;
    r.generation = generation_[range];
    bool compressed = always || (compress && range != last_range_);
    r.kind = compressed ? Group::kCompressed : Group::kPacked;
    uint64_t lo = range << options_.range_bits, hi = (range + 1) << options_.range_bits;
    for (auto it = live_.lower_bound(lo); it != live_.end() && it->first < hi; ++it) r.codes.push_back(it->second);
    plan.push_back(std::move(r));
  }
  return plan;
}

void JitDebugContext::Build(std::vector<Rebuild>& plan) {
  ElfWriterOptions opts;
  for (Rebuild& r : plan) {
    if (r.codes.empty()) continue;
    std::vector<const CodeInfo*> codes;
    codes.reserve(r.codes.size());
    for (const CodeInfo& c : r.codes) codes.push_back(&c);
    r.bytes = r.kind == Group::kCompressed ? WriteCompressedDebugInfo(codes, opts) : WriteMiniDebugInfo(codes, opts);
  }
}

// Rebuilds each range's entries as one ELF: the new one is linked before the
// old ones are unlinked, so readers never see a gap in coverage.
void JitDebugContext::Apply(std::vector<Rebuild>& plan) {
  for (Rebuild& r : plan) {
    if (generation_[r.range] != r.generation) {
      // Code came or went while the file was built: again (deferred mode
      // runs Maintain until nothing is due). New code left a single entry;
      // freed code is marked dirty.
      dirty_ranges_.insert(r.range);
      if (options_.deferred && options_.pack && !options_.full) pack_due_ = true;
      continue;
    }
    std::set<Group*> old;
    for (Group* g : groups_)
      if (g->range == r.range) old.insert(g);
    if (r.codes.empty()) {
      for (Group* g : old) Unregister(g);
      continue;
    }
    std::vector<const CodeInfo*> codes;
    for (const CodeInfo& c : r.codes) codes.push_back(&c);
    Group* g = Register(std::move(r.bytes), r.kind, r.range, codes);
    if (!g) continue;
    for (Group* o : old) Unregister(o);
    for (const CodeInfo& c : r.codes) covering_[c.address] = g;
    stats_.packs++;
    if (r.kind == Group::kCompressed) stats_.compressions++;
  }
}

void JitDebugContext::CompressNow() {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t t0 = now_ns();
  std::vector<Rebuild> plan = Plan(/*with_singles=*/false);
  Build(plan);
  Apply(plan);
  stats_.build_ns += now_ns() - t0;
}

bool JitDebugContext::MaintenanceDue() {
  std::lock_guard<std::mutex> lock(mu_);
  return pack_due_;
}

void JitDebugContext::Maintain() {
  std::vector<Rebuild> plan;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!pack_due_) return;
    pack_due_ = false;
    plan = Plan(/*with_singles=*/true);
  }
  uint64_t t0 = now_ns();
  Build(plan);  // the expensive part (ELF and xz), without the lock
  std::lock_guard<std::mutex> lock(mu_);
  Apply(plan);
  stats_.build_ns += now_ns() - t0;
}

bool JitDebugContext::RemoveCode(uint64_t address) {
  std::lock_guard<std::mutex> lock(mu_);
  auto live = live_.find(address);
  if (live == live_.end()) return false;
  uint64_t t0 = now_ns();
  auto cov = covering_.find(address);
  Group* g = cov == covering_.end() ? nullptr : cov->second;
  live_.erase(live);
  generation_[address >> options_.range_bits]++;
  if (g) {
    if (g->codes.size() <= 1) {
      Unregister(g);  // a single-function entry goes at once
    } else {
      // A packed group keeps the freed symbol until the next repack (ART's
      // policy): rebuilding a whole group for every freed function would cost
      // one ELF (or xz) build per free during a code GC.
      covering_.erase(cov);
      dirty_ranges_.insert(g->range);
    }
  }
  freed_since_compress_ = true;
  stats_.build_ns += now_ns() - t0;
  return true;
}

JitDebugStats JitDebugContext::stats() {
  std::lock_guard<std::mutex> lock(mu_);
  JitDebugStats s = stats_;
  s.entries = groups_.size();
  s.functions = live_.size();
  return s;
}

}  // namespace jitscope
