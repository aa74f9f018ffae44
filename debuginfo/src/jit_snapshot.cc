#include "debuginfo/jit_snapshot.h"

#include <time.h>

#include <chrono>
#include <cstddef>
#include <cstring>
#include <thread>

#include "jitscope/jit_debug.h"

namespace jitscope {
namespace {

// Whole-snapshot attempts when a symbol file changed under us (the list walk
// has its own retries in DescriptorReader). A target that frees code faster
// than we copy it gets this many tries, with the reader's backoff in between.
constexpr int kMaxSnapshotAttempts = 32;
// Plain GDB v1: two complete reads must agree; this many reads at most.
constexpr int kMaxPlainReads = 16;

uint64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

bool SameList(const DescriptorView& a, const DescriptorView& b) {
  if (a.entries.size() != b.entries.size()) return false;
  for (size_t i = 0; i < a.entries.size(); i++) {
    const SnapshotEntry& x = a.entries[i];
    const SnapshotEntry& y = b.entries[i];
    if (x.entry_address != y.entry_address || x.symfile_addr != y.symfile_addr || x.symfile_size != y.symfile_size)
      return false;
    if ((x.symfile == nullptr) != (y.symfile == nullptr)) return false;
    if (x.symfile && *x.symfile != *y.symfile) return false;
  }
  return true;
}

}  // namespace

JitSnapshot::Totals JitSnapshot::totals() const {
  Totals t;
  for (const DescriptorView& d : descriptors) {
    for (const SnapshotEntry& e : d.entries) {
      t.entries++;
      if (!e.info) {
        t.other_bytes += e.symfile_size;
        continue;
      }
      t.functions += e.info->functions.size();
      switch (e.info->kind) {
        case SymfileKind::kSingle: t.unpacked_bytes += e.symfile_size; break;
        case SymfileKind::kPacked: t.packed_bytes += e.symfile_size; break;
        case SymfileKind::kCompressed: t.compressed_bytes += e.symfile_size; break;
        case SymfileKind::kRelocatable: t.other_bytes += e.symfile_size; break;
      }
    }
  }
  return t;
}

void ParseSnapshotEntries(JitSnapshot* snapshot) {
  for (DescriptorView& d : snapshot->descriptors)
    for (SnapshotEntry& e : d.entries) {
      if (e.info || !e.symfile || !e.problem.empty()) continue;
      Result<SymfileInfo> info = ParseSymfile(e.symfile->data(), e.symfile->size());
      if (info) {
        e.info = std::make_shared<const SymfileInfo>(std::move(*info));
      } else {
        e.problem = "symbol file: " + info.error();
      }
    }
}

JitSnapshotter::JitSnapshotter(Memory& memory, std::vector<DescriptorLocation> descriptors,
                               DescriptorReaderLimits limits, bool parse)
    : memory_(memory), locations_(std::move(descriptors)), limits_(limits), parse_(parse), reader_(memory, limits) {
  headers_.resize(locations_.size());
}

// The no-change fast path: one 12-byte read of seqlock + timestamp.
Result<bool> JitSnapshotter::HeaderUnchanged(size_t index) {
  const Header& last = headers_[index];
  if (!last.valid) return false;
  uint8_t bytes[12];
  uint64_t address = locations_[index].address + offsetof(jit_descriptor, seqlock);
  if (!memory_.ReadFully(address, bytes, sizeof(bytes)))
    return Error{"cannot read descriptor at " + HexAddress(locations_[index].address)};
  uint32_t seqlock;
  uint64_t timestamp;
  memcpy(&seqlock, bytes, 4);
  memcpy(&timestamp, bytes + 4, 8);
  return seqlock % 2 == 0 && seqlock == last.seqlock && timestamp == last.timestamp;
}

Result<DescriptorView> JitSnapshotter::ReadDescriptor(const DescriptorLocation& location,
                                                      std::map<Key, SnapshotEntry>* next_cache) {
  std::string last_problem;
  for (int attempt = 0; attempt < kMaxSnapshotAttempts; attempt++) {
    Result<DescriptorSnapshot> read = reader_.Read(location.address);
    stats_.list_reads++;
    if (!read) return std::move(read).take_error();
    DescriptorView view;
    view.location = location;
    view.header = std::move(*read);
    std::vector<JitEntrySnapshot> entries = std::move(view.header.entries);
    view.header.entries.clear();
    bool changed = false;
    std::map<Key, SnapshotEntry> fresh;
    for (const JitEntrySnapshot& e : entries) {
      Key key{e.address, e.seqlock, e.timestamp, e.symfile_addr, e.symfile_size};
      bool plain = view.header.variant == DescriptorVariant::kGdbV1;  // nothing says an entry is unchanged
      auto cached = plain ? cache_.end() : cache_.find(key);
      if (cached != cache_.end()) {
        view.entries.push_back(cached->second);
        fresh.emplace(key, cached->second);
        continue;
      }
      SnapshotEntry s;
      s.entry_address = e.address;
      s.symfile_addr = e.symfile_addr;
      s.symfile_size = e.symfile_size;
      s.timestamp = e.timestamp;
      s.seqlock = e.seqlock;
      if (!e.problem.empty()) {
        s.problem = e.problem;
      } else {
        Result<std::vector<uint8_t>> bytes = reader_.ReadSymfile(view.header, e);
        if (!bytes) {
          // Changed under us (freed, repacked): the whole list is stale.
          if (bytes.error().find("changed") != std::string::npos) {
            changed = true;
            last_problem = bytes.error();
            break;
          }
          s.problem = bytes.error();
        } else {
          stats_.symfiles_read++;
          stats_.symfile_bytes += bytes->size();
          auto shared = std::make_shared<const std::vector<uint8_t>>(std::move(*bytes));
          s.symfile = shared;
          if (parse_) {
            Result<SymfileInfo> info = ParseSymfile(shared->data(), shared->size());
            if (info) {
              s.info = std::make_shared<const SymfileInfo>(std::move(*info));
            } else {
              s.problem = "symbol file: " + info.error();
            }
          }
        }
      }
      if (!plain) fresh.emplace(key, s);
      view.entries.push_back(std::move(s));
    }
    if (changed) {
      stats_.retries++;
      std::this_thread::sleep_for(std::chrono::microseconds(20 << std::min(attempt, 6)));
      continue;
    }
    next_cache->merge(fresh);
    return view;
  }
  return Error{"the JIT code of descriptor " + HexAddress(location.address) + " kept changing during " +
               std::to_string(kMaxSnapshotAttempts) + " attempts (last: " + last_problem + ")"};
}

Result<bool> JitSnapshotter::Poll() {
  stats_.polls++;
  if (have_snapshot_) {
    bool all_unchanged = true;
    for (size_t i = 0; i < locations_.size() && all_unchanged; i++) {
      Result<bool> same = HeaderUnchanged(i);
      if (!same) return std::move(same).take_error();
      all_unchanged = *same;
    }
    if (all_unchanged && !locations_.empty()) {
      stats_.unchanged_polls++;
      return false;
    }
  }
  JitSnapshot next;
  std::map<Key, SnapshotEntry> next_cache;
  for (size_t i = 0; i < locations_.size(); i++) {
    Result<DescriptorView> view = ReadDescriptor(locations_[i], &next_cache);
    if (!view) return std::move(view).take_error();
    if (view->header.variant == DescriptorVariant::kGdbV1) {
      // No protocol: read until two complete copies agree.
      next.synchronized = false;
      bool agreed = false;
      for (int n = 1; n < kMaxPlainReads && !agreed; n++) {
        Result<DescriptorView> again = ReadDescriptor(locations_[i], &next_cache);
        if (!again) return std::move(again).take_error();
        agreed = SameList(*view, *again);
        if (!agreed) stats_.retries++;
        view = std::move(again);
      }
      if (!agreed)
        return Error{"descriptor at " + HexAddress(locations_[i].address) + " (plain GDB, no seqlock) never read " +
                     "the same twice in " + std::to_string(kMaxPlainReads) + " reads; try --stop"};
      headers_[i].valid = false;  // no header says "unchanged"
    } else {
      headers_[i].valid = true;
      headers_[i].seqlock = view->header.seqlock;
      headers_[i].timestamp = view->header.timestamp;
    }
    next.descriptors.push_back(std::move(*view));
  }
  next.taken_ns = MonotonicNs();
  cache_ = std::move(next_cache);  // entries no longer listed are dropped
  snapshot_ = std::move(next);
  have_snapshot_ = true;
  return true;
}

}  // namespace jitscope
