// UnwindStack over fabricated input: JIT CFI from symbol files made by our
// own writers (unpacked, packed, compressed), frame-pointer chains, and
// hostile registers and memory (garbage, cycles, truncation) that must end
// in a bounded stack and never a crash. Also this test process's own stack
// (native CFI through libc, and through a signal handler frame).
#include <gtest/gtest.h>
#include <signal.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "debuginfo/elf_writer.h"
#include "debuginfo/jit_snapshot.h"
#include "debuginfo/memory.h"
#include "debuginfo/process_maps.h"
#include "debuginfo/symfile.h"
#include "native_unwind_table.h"
#include "unwinder/unwinder.h"

namespace jitscope {
namespace {

constexpr uint64_t kStack = 0x7ff000000000ull;
constexpr uint64_t kF = 0x7f0000010000ull;  // a JIT function with a 48-byte frame
constexpr uint64_t kG = 0x7f0000020000ull;  // its caller, frameless

CodeInfo Code(uint64_t address, const std::string& name, std::vector<FrameRow> rows) {
  CodeInfo c;
  c.address = address;
  c.size = 0x100;
  c.name = name;
  c.frame.rows = std::move(rows);
  return c;
}

FrameRow Row(uint32_t offset, int32_t cfa, int16_t rbx = 0) {
  FrameRow r;
  r.code_offset = offset;
  r.cfa_offset = cfa;
  r.saved_offset[kDwRbx] = rbx;
  return r;
}

SnapshotEntry Entry(std::vector<uint8_t> file) {
  SnapshotEntry e;
  Result<SymfileInfo> info = ParseSymfile(file.data(), file.size());
  EXPECT_TRUE(info.ok()) << info.error();
  e.info = std::make_shared<SymfileInfo>(std::move(*info));
  e.symfile = std::make_shared<std::vector<uint8_t>>(std::move(file));
  return e;
}

Registers Regs(uint64_t rip, uint64_t rsp, uint64_t rbp = 0) {
  Registers r{};
  r.rip = rip;
  r.rsp = rsp;
  r.rbp = rbp;
  return r;
}

void Put64(std::vector<uint8_t>& bytes, uint64_t offset, uint64_t value) { memcpy(bytes.data() + offset, &value, 8); }

enum class Layout { kSeparate, kPacked, kCompressed };

class JitCfi : public ::testing::TestWithParam<Layout> {};

TEST_P(JitCfi, UnwindsFramelessJitCodeByItsCfi) {
  CodeInfo f = Code(kF, "f@t.lua:1", {Row(0, 8), Row(1, 16, -16), Row(5, 48, -16)});
  CodeInfo g = Code(kG, "g@t.lua:9", {Row(0, 8)});
  JitSnapshot jit;
  jit.descriptors.emplace_back();
  ElfWriterOptions opts;
  switch (GetParam()) {
    case Layout::kSeparate:
      jit.descriptors[0].entries.push_back(Entry(WriteMiniDebugInfo({&f}, opts)));
      jit.descriptors[0].entries.push_back(Entry(WriteMiniDebugInfo({&g}, opts)));
      break;
    case Layout::kPacked: jit.descriptors[0].entries.push_back(Entry(WriteMiniDebugInfo({&f, &g}, opts))); break;
    case Layout::kCompressed:
      jit.descriptors[0].entries.push_back(Entry(WriteCompressedDebugInfo({&f, &g}, opts)));
      break;
  }
  // f at offset 0x10: CFA = rsp + 48, return address at CFA - 8, rbx at CFA - 16.
  std::vector<uint8_t> stack(0x100, 0);
  Put64(stack, 40, kG + 0x20);
  Put64(stack, 32, 0x1234);
  Put64(stack, 48, 0);  // g's return address: the end of the stack
  SnapshotMemory memory;
  ASSERT_TRUE(memory.AddRegion(kStack, stack));
  UnwindResult result = UnwindStackDetailed(memory, {}, jit, Regs(kF + 0x10, kStack));
  ASSERT_EQ(result.frames.size(), 2u) << result.stop_reason;
  EXPECT_EQ(result.frames[0].method, UnwoundFrame::Method::kRegisters);
  EXPECT_EQ(result.frames[1].pc, kG + 0x20);
  EXPECT_EQ(result.frames[1].sp, kStack + 48);
  EXPECT_EQ(result.frames[1].method, UnwoundFrame::Method::kJitCfi);
  EXPECT_TRUE(result.complete) << result.stop_reason;

  // At f's entry (offset 0) the CFA is rsp + 8: the row of every instruction counts.
  std::vector<uint8_t> entry_stack(0x100, 0);
  Put64(entry_stack, 0, kG + 0x30);
  SnapshotMemory entry_memory;
  ASSERT_TRUE(entry_memory.AddRegion(kStack, entry_stack));
  Result<std::vector<UnwoundFrame>> frames = UnwindStack(entry_memory, {}, jit, Regs(kF, kStack));
  ASSERT_TRUE(frames.ok());
  ASSERT_GE(frames->size(), 2u);
  EXPECT_EQ((*frames)[1].pc, kG + 0x30);
  EXPECT_EQ((*frames)[1].sp, kStack + 8);
}

INSTANTIATE_TEST_SUITE_P(Layouts, JitCfi, ::testing::Values(Layout::kSeparate, Layout::kPacked, Layout::kCompressed),
                         [](const ::testing::TestParamInfo<Layout>& info) {
                           switch (info.param) {
                             case Layout::kSeparate: return "separate";
                             case Layout::kPacked: return "packed";
                             case Layout::kCompressed: return "compressed";
                           }
                           return "?";
                         });

// A chain of `n` frame-pointer frames at kStack; the last holds 0, 0.
std::vector<uint8_t> Chain(size_t n, uint64_t frame_size = 0x40) {
  std::vector<uint8_t> bytes((n + 1) * frame_size, 0);
  for (size_t i = 0; i < n; i++) {
    uint64_t rbp = kStack + i * frame_size;
    bool last = i + 1 == n;
    Put64(bytes, rbp - kStack, last ? 0 : rbp + frame_size);
    Put64(bytes, rbp - kStack + 8, last ? 0 : 0x400100 + i);
  }
  return bytes;
}

TEST(FramePointers, WalksAChainWithoutCfi) {
  BufferMemory memory(kStack, Chain(5));
  UnwindResult r = UnwindStackDetailed(memory, {}, {}, Regs(0x400000, kStack - 0x20, kStack));
  ASSERT_EQ(r.frames.size(), 5u) << r.stop_reason;
  for (size_t i = 1; i < r.frames.size(); i++) {
    EXPECT_EQ(r.frames[i].pc, 0x400100 + i - 1);
    EXPECT_EQ(r.frames[i].method, UnwoundFrame::Method::kFramePointer);
    EXPECT_GT(r.frames[i].sp, r.frames[i - 1].sp);
  }
  EXPECT_FALSE(r.complete);
}

TEST(FramePointers, StopsAtTheFrameLimit) {
  BufferMemory memory(kStack, Chain(1000, 0x10));
  UnwindOptions options;
  options.max_frames = 50;
  UnwindResult r = UnwindStackDetailed(memory, {}, {}, Regs(0x400000, kStack - 0x20, kStack), options);
  EXPECT_EQ(r.frames.size(), 50u);
  EXPECT_EQ(r.stop_reason, "frame limit");
}

TEST(FramePointers, CyclicChainsEnd) {
  std::vector<uint8_t> bytes(0x100, 0);
  Put64(bytes, 0, kStack);  // points at itself
  Put64(bytes, 8, 0x400200);
  BufferMemory self(kStack, bytes);
  EXPECT_LE(UnwindStackDetailed(self, {}, {}, Regs(0x400000, kStack - 8, kStack)).frames.size(), 2u);
  // A -> B -> A
  Put64(bytes, 0, kStack + 0x40);
  Put64(bytes, 0x40, kStack);
  Put64(bytes, 0x48, 0x400300);
  BufferMemory two(kStack, bytes);
  EXPECT_LE(UnwindStackDetailed(two, {}, {}, Regs(0x400000, kStack - 8, kStack)).frames.size(), 3u);
  // Pointing down the stack.
  Put64(bytes, 0x40, kStack - 0x1000);
  BufferMemory down(kStack, bytes);
  EXPECT_LE(UnwindStackDetailed(down, {}, {}, Regs(0x400000, kStack - 8, kStack)).frames.size(), 3u);
}

TEST(FramePointers, TruncatedMemoryEndsTheStack) {
  std::vector<uint8_t> chain = Chain(20);
  for (size_t keep : {size_t{0}, size_t{4}, size_t{12}, chain.size() / 2}) {
    BufferMemory memory(kStack, std::vector<uint8_t>(chain.begin(), chain.begin() + static_cast<ptrdiff_t>(keep)));
    UnwindResult r = UnwindStackDetailed(memory, {}, {}, Regs(0x400000, kStack - 0x20, kStack));
    EXPECT_GE(r.frames.size(), 1u);
    EXPECT_LE(r.frames.size(), keep / 0x40 + 2);
    EXPECT_FALSE(r.complete);
  }
}

TEST(Hostile, GarbageRegistersAndMemoryGiveBoundedStacks) {
  std::mt19937_64 random(42);
  std::vector<uint8_t> noise(0x4000);
  for (uint8_t& b : noise) b = static_cast<uint8_t>(random());
  // Sprinkle plausible stack pointers and return addresses so that some
  // walks go a while.
  for (size_t i = 0; i + 16 <= noise.size(); i += 64) {
    Put64(noise, i, kStack + (random() % noise.size() & ~63ull));
    Put64(noise, i + 8, 0x400000 + random() % 0x100000);
  }
  BufferMemory memory(kStack, noise);
  size_t longest = 0;
  for (int round = 0; round < 500; round++) {
    Registers regs{};
    uint64_t* words = reinterpret_cast<uint64_t*>(&regs);
    for (size_t i = 0; i < sizeof(regs) / 8; i++) words[i] = random();
    if (round % 2) {
      regs.rsp = kStack + (random() % noise.size());
      regs.rbp = (kStack + (random() % noise.size())) & ~63ull;
    }
    // A plausible pc so that the walk goes on past frame 0.
    if (round % 4 < 2) regs.rip = 0x400000 + random() % 0x100000;
    UnwindOptions options;
    options.max_frames = 64;
    UnwindResult r = UnwindStackDetailed(memory, {}, {}, regs, options);
    EXPECT_LE(r.frames.size(), 64u);
    EXPECT_GE(r.frames.size(), 1u);
    for (size_t i = 1; i < r.frames.size(); i++) EXPECT_GT(r.frames[i].sp, r.frames[i - 1].sp);
    longest = std::max(longest, r.frames.size());
  }
  EXPECT_GT(longest, 2u);  // the noise did make the walker work
}

// Symbol files mutated at random: the parsed function ranges of the
// original (so the unwinder looks at the file) over damaged bytes, packed
// and compressed. Every unwind ends, with at most the true two frames.
TEST(Hostile, MutatedJitSymbolFilesNeverCrash) {
  CodeInfo f = Code(kF, "f@t.lua:1", {Row(0, 8), Row(1, 16, -16), Row(5, 48, -16)});
  CodeInfo g = Code(kG, "g@t.lua:9", {Row(0, 8)});
  ElfWriterOptions opts;
  std::vector<uint8_t> stack(0x100, 0);
  Put64(stack, 40, kG + 0x20);
  SnapshotMemory memory;
  ASSERT_TRUE(memory.AddRegion(kStack, stack));
  std::mt19937 random(7);
  for (bool compressed : {false, true}) {
    std::vector<uint8_t> original = compressed ? WriteCompressedDebugInfo({&f, &g}, opts) : WriteMiniDebugInfo({&f, &g}, opts);
    SnapshotEntry good = Entry(original);
    for (int round = 0; round < 300; round++) {
      std::vector<uint8_t> bytes = original;
      int flips = 1 + static_cast<int>(random() % 8);
      for (int k = 0; k < flips; k++) bytes[random() % bytes.size()] = static_cast<uint8_t>(random());
      if (round % 10 == 0) bytes.resize(random() % bytes.size());
      SnapshotEntry e = good;
      e.symfile = std::make_shared<std::vector<uint8_t>>(std::move(bytes));
      JitSnapshot jit;
      jit.descriptors.emplace_back();
      jit.descriptors[0].entries.push_back(e);
      UnwindResult r = UnwindStackDetailed(memory, {}, jit, Regs(kF + 0x10, kStack));
      EXPECT_GE(r.frames.size(), 1u);
      EXPECT_LE(r.frames.size(), 3u);
    }
  }
}

Registers FromContext(const ucontext_t& uc) {
  Registers r{};
  const greg_t* g = uc.uc_mcontext.gregs;
  r.r8 = static_cast<uint64_t>(g[REG_R8]), r.r9 = static_cast<uint64_t>(g[REG_R9]);
  r.r10 = static_cast<uint64_t>(g[REG_R10]), r.r11 = static_cast<uint64_t>(g[REG_R11]);
  r.r12 = static_cast<uint64_t>(g[REG_R12]), r.r13 = static_cast<uint64_t>(g[REG_R13]);
  r.r14 = static_cast<uint64_t>(g[REG_R14]), r.r15 = static_cast<uint64_t>(g[REG_R15]);
  r.rdi = static_cast<uint64_t>(g[REG_RDI]), r.rsi = static_cast<uint64_t>(g[REG_RSI]);
  r.rbp = static_cast<uint64_t>(g[REG_RBP]), r.rbx = static_cast<uint64_t>(g[REG_RBX]);
  r.rdx = static_cast<uint64_t>(g[REG_RDX]), r.rax = static_cast<uint64_t>(g[REG_RAX]);
  r.rcx = static_cast<uint64_t>(g[REG_RCX]), r.rsp = static_cast<uint64_t>(g[REG_RSP]);
  r.rip = static_cast<uint64_t>(g[REG_RIP]);
  return r;
}

TEST(OwnProcess, NativeCfiReachesTheOutermostFrame) {
  Result<std::vector<MapEntry>> maps = ReadProcessMaps(getpid());
  ASSERT_TRUE(maps.ok()) << maps.error();
  ucontext_t uc;
  ASSERT_EQ(getcontext(&uc), 0);
  LocalMemory memory;
  UnwindResult r = UnwindStackDetailed(memory, *maps, {}, FromContext(uc));
  EXPECT_TRUE(r.complete) << r.stop_reason;
  EXPECT_GE(r.frames.size(), 4u);  // this test, gtest's runner, main, __libc_start_main...
  for (size_t i = 1; i < r.frames.size(); i++) EXPECT_EQ(r.frames[i].method, UnwoundFrame::Method::kNativeCfi) << i;
}

class PathResolver : public ModuleFileResolver {
 public:
  explicit PathResolver(bool available) : available_(available) {}
  std::string PathFor(const MapEntry& map) override {
    calls_++;
    return available_ ? map.path : "";
  }
  int calls() const { return calls_; }

 private:
  bool available_;
  int calls_ = 0;
};

// The offline case (a tombstone): the stack copied into a SnapshotMemory,
// the native files named by a resolver. The same frames as live, although
// C++ CIEs point at their personality routine through .data, which the
// capture lacks.
TEST(OwnProcess, OfflineCopyOfTheStackUnwindsLikeTheLiveOne) {
  Result<std::vector<MapEntry>> maps = ReadProcessMaps(getpid());
  ASSERT_TRUE(maps.ok());
  ucontext_t uc;
  ASSERT_EQ(getcontext(&uc), 0);
  Registers regs = FromContext(uc);
  const MapEntry* stack = nullptr;
  for (const MapEntry& m : *maps)
    if (regs.rsp >= m.start && regs.rsp < m.end) stack = &m;
  ASSERT_NE(stack, nullptr);
  // Below rsp is dead space (and our own unwinding's frames): copy from rsp up.
  std::vector<uint8_t> bytes(stack->end - regs.rsp);
  LocalMemory local;
  ASSERT_TRUE(local.ReadFully(regs.rsp, bytes.data(), bytes.size()));
  SnapshotMemory capture;
  ASSERT_TRUE(capture.AddRegion(regs.rsp, std::move(bytes)));
  PathResolver files(/*available=*/true);
  UnwindOptions options;
  options.files = &files;
  UnwindResult offline = UnwindStackDetailed(capture, *maps, {}, regs, options);
  UnwindResult live = UnwindStackDetailed(local, *maps, {}, regs);
  EXPECT_GT(files.calls(), 0);
  EXPECT_TRUE(offline.complete) << offline.stop_reason;
  ASSERT_EQ(offline.frames.size(), live.frames.size());
  for (size_t i = 0; i < live.frames.size(); i++) {
    EXPECT_EQ(offline.frames[i].pc, live.frames[i].pc) << i;
    EXPECT_EQ(offline.frames[i].sp, live.frames[i].sp) << i;
  }

  // Without the files there is no native CFI: whatever is found, it is not by CFI.
  PathResolver none(/*available=*/false);
  options.files = &none;
  UnwindResult blind = UnwindStackDetailed(capture, *maps, {}, regs, options);
  for (const UnwoundFrame& f : blind.frames) EXPECT_NE(f.method, UnwoundFrame::Method::kNativeCfi);
  EXPECT_FALSE(blind.complete);
}

TEST(OwnProcess, TheVdsoIsDescribedFromMemory) {
  Result<std::vector<MapEntry>> maps = ReadProcessMaps(getpid());
  ASSERT_TRUE(maps.ok());
  const MapEntry* vdso = nullptr;
  for (const MapEntry& m : *maps)
    if (m.path == "[vdso]") vdso = &m;
  if (vdso == nullptr) GTEST_SKIP() << "this kernel maps no vdso into processes";
  LocalMemory memory;
  NativeUnwindTable table(*maps, memory, nullptr, getpid());
  std::optional<unw_dyn_info_t> di = table.Find(vdso->start + (vdso->end - vdso->start) / 2);
  ASSERT_TRUE(di.has_value());
  EXPECT_EQ(di->format, UNW_INFO_FORMAT_REMOTE_TABLE);
  EXPECT_GT(di->u.rti.table_len, 0u);
  EXPECT_GE(di->u.rti.segbase, vdso->start);
  EXPECT_LT(di->u.rti.segbase, vdso->end);
}

UnwindResult g_in_handler;
std::vector<MapEntry> g_maps;

void Handler(int) {
  // raise() delivers synchronously on this thread, so allocating here is safe.
  ucontext_t uc;
  getcontext(&uc);
  LocalMemory memory;
  g_in_handler = UnwindStackDetailed(memory, g_maps, {}, FromContext(uc));
}

TEST(OwnProcess, UnwindsThroughASignalHandlerFrame) {
  Result<std::vector<MapEntry>> maps = ReadProcessMaps(getpid());
  ASSERT_TRUE(maps.ok());
  g_maps = *maps;
  struct sigaction sa{}, old{};
  sa.sa_handler = Handler;
  sigemptyset(&sa.sa_mask);
  ASSERT_EQ(sigaction(SIGUSR1, &sa, &old), 0);
  raise(SIGUSR1);
  sigaction(SIGUSR1, &old, nullptr);
  size_t signal_frames = 0;
  for (const UnwoundFrame& f : g_in_handler.frames) signal_frames += f.signal_frame;
  EXPECT_EQ(signal_frames, 1u);
  EXPECT_TRUE(g_in_handler.complete) << g_in_handler.stop_reason;
  EXPECT_GE(g_in_handler.frames.size(), 6u);
}

}  // namespace
}  // namespace jitscope
