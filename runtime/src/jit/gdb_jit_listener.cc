#include "gdb_jit_listener.h"

#include <cstdlib>
#include <cstring>

#include "debuginfo/elf_writer.h"
#include "debuginfo/jit_descriptor_writer.h"

namespace jitvm {
namespace jit {

GdbJitListener::GdbJitListener(DebugInfoMode mode, CodeCache* cache) : mode_(mode), cache_(cache) {
  // Entries live in the JIT data region too. The region outlives every entry
  // in practice (the VM exits with it), and it is never unmapped while mapped
  // entries could be read.
  if (cache_) {
    jitscope::GlobalJitDescriptorWriter().SetChunkAllocator(
        [](void* ctx, size_t bytes) -> void* { return static_cast<CodeCache*>(ctx)->AllocateData(bytes); }, cache_);
  }
}

GdbJitListener::~GdbJitListener() {
  std::lock_guard<std::mutex> lock(mu_);
  // The JIT (and its data region) may be gone already: unlink, but leave the
  // region's memory alone, and take new entries from the heap from now on.
  jitscope::GlobalJitDescriptorWriter().SetChunkAllocator(nullptr, nullptr);
  cache_ = nullptr;
  for (Group* g : std::set<Group*>(groups_)) {
    g->in_data_region = false;
    g->symfile = nullptr;  // free(nullptr) below is a no-op
    Unregister(g);
  }
}

GdbJitListener::Group* GdbJitListener::Register(std::vector<uint8_t> bytes, Group::Kind kind, uint64_t range,
                                                const std::vector<const jitscope::CodeInfo*>& codes) {
  if (bytes.empty()) return nullptr;
  auto* g = new Group();
  g->kind = kind;
  g->range = range;
  g->size = bytes.size();
  // Symbol files live in the JIT data region (never unmapped, so a reader's copy
  // never faults); the heap is the fallback when the region is full.
  g->symfile = cache_ ? cache_->AllocateData(bytes.size()) : nullptr;
  g->in_data_region = g->symfile != nullptr;
  if (!g->symfile) g->symfile = static_cast<uint8_t*>(malloc(bytes.size()));
  if (!g->symfile) {
    delete g;
    return nullptr;
  }
  memcpy(g->symfile, bytes.data(), bytes.size());
  g->entry = jitscope::GlobalJitDescriptorWriter().Register(g->symfile, g->size);
  for (const jitscope::CodeInfo* c : codes) g->codes.insert(c->address);
  groups_.insert(g);
  switch (kind) {
    case Group::kSingle: stats_.unpacked_bytes += g->size; break;
    case Group::kPacked: stats_.packed_bytes += g->size; break;
    case Group::kCompressed: stats_.compressed_bytes += g->size; break;
  }
  return g;
}

void GdbJitListener::Unregister(Group* g) {
  if (g->entry) jitscope::GlobalJitDescriptorWriter().Unregister(g->entry);
  switch (g->kind) {
    case Group::kSingle: stats_.unpacked_bytes -= g->size; break;
    case Group::kPacked: stats_.packed_bytes -= g->size; break;
    case Group::kCompressed: stats_.compressed_bytes -= g->size; break;
  }
  if (g->in_data_region)
    cache_->FreeData(g->symfile, g->size);
  else
    free(g->symfile);
  for (uint64_t a : g->codes) {
    auto it = covering_.find(a);
    if (it != covering_.end() && it->second == g) covering_.erase(it);
  }
  groups_.erase(g);
  delete g;
}

void GdbJitListener::OnCodeLoaded(const jitscope::CodeInfo& code) {
  if (mode_ == DebugInfoMode::kNone) return;
  std::lock_guard<std::mutex> lock(mu_);
  jitscope::CodeInfo& info = live_[code.address];
  info = code;
  info.code_bytes = nullptr;  // not needed for debug info
  jitscope::ElfWriterOptions opts;
  opts.full = mode_ == DebugInfoMode::kFull;
  uint64_t range = code.address >> kRangeBits;
  last_range_ = range;
  Group* g = Register(jitscope::WriteMiniDebugInfo({&info}, opts), Group::kSingle, range, {&info});
  if (g) covering_[code.address] = g;
  if (mode_ == DebugInfoMode::kFull) return;  // full-mode entries are never packed
  if (++new_since_pack_ >= kPackEvery) {
    new_since_pack_ = 0;
    std::set<uint64_t> ranges;
    for (Group* gr : groups_)
      if (gr->kind == Group::kSingle) ranges.insert(gr->range);
    PackRanges(ranges, /*compress=*/false);
    if (freed_since_compress_) CompressAfterFree();
  }
}

// Rebuilds the entries of each range as one ELF: the new one is linked before
// the old ones are unlinked, so readers never see a gap in coverage.
void GdbJitListener::PackRanges(const std::set<uint64_t>& ranges, bool compress) {
  for (uint64_t range : ranges) {
    std::vector<const jitscope::CodeInfo*> codes;
    uint64_t lo = range << kRangeBits, hi = (range + 1) << kRangeBits;
    for (auto it = live_.lower_bound(lo); it != live_.end() && it->first < hi; ++it) codes.push_back(&it->second);
    std::set<Group*> old;
    for (Group* g : groups_)
      if (g->range == range) old.insert(g);
    if (codes.empty()) {
      for (Group* g : old) Unregister(g);
      continue;
    }
    bool keep_uncompressed = range == last_range_;
    Group::Kind kind = compress && !keep_uncompressed ? Group::kCompressed : Group::kPacked;
    jitscope::ElfWriterOptions opts;
    std::vector<uint8_t> bytes = kind == Group::kCompressed ? jitscope::WriteCompressedDebugInfo(codes, opts)
                                                            : jitscope::WriteMiniDebugInfo(codes, opts);
    Group* g = Register(std::move(bytes), kind, range, codes);
    if (!g) continue;
    for (Group* o : old) Unregister(o);
    for (const jitscope::CodeInfo* c : codes) covering_[c->address] = g;
    stats_.packs++;
    if (kind == Group::kCompressed) stats_.compressions++;
  }
}

void GdbJitListener::CompressAfterFree() {
  freed_since_compress_ = false;
  std::set<uint64_t> ranges;
  for (Group* g : groups_)
    if (g->kind != Group::kCompressed && g->range != last_range_) ranges.insert(g->range);
  PackRanges(ranges, /*compress=*/true);
}

void GdbJitListener::OnCodeFreed(const jitscope::CodeInfo& code) {
  if (mode_ == DebugInfoMode::kNone) return;
  std::lock_guard<std::mutex> lock(mu_);
  auto live = live_.find(code.address);
  if (live == live_.end()) return;
  auto cov = covering_.find(code.address);
  Group* g = cov == covering_.end() ? nullptr : cov->second;
  live_.erase(live);
  if (g) {
    if (g->codes.size() <= 1) {
      Unregister(g);
    } else {
      // The freed code's address will be reused at once: rebuild its group
      // without it now (uncompressed; compression follows with the next pack).
      g->codes.erase(code.address);
      covering_.erase(code.address);
      std::set<uint64_t> r{g->range};
      PackRanges(r, /*compress=*/false);
    }
  }
  freed_since_compress_ = true;
}

DebugInfoStats GdbJitListener::stats() {
  std::lock_guard<std::mutex> lock(mu_);
  DebugInfoStats s = stats_;
  s.entries = groups_.size();
  s.functions = live_.size();
  return s;
}

}  // namespace jit
}  // namespace jitvm
