// Bytes and time per function of the mini debug info writers, in the three
// forms the GDB JIT interface registers: one file per function (unpacked),
// 64 functions per file (packed, ART's repack batch), and packed groups
// xz-compressed into .gnu_debugdata. Also full mode and perf's .eh_frame.
#include <benchmark/benchmark.h>

#include <vector>

#include "debuginfo/elf_writer.h"
#include "debuginfo/jit_debug_context.h"
#include "synthetic_code.h"

namespace jitscope {
namespace {

constexpr uint64_t kCodeBase = 0x7f3a12340000;
constexpr size_t kPool = 4096;  // distinct functions cycled through

// jitvm-like functions: names "fN@prog.lua:LINE", alternating frame pointer
// use, two epilogues each, placed back to back 16-byte aligned.
const std::vector<CodeInfo>& Functions() {
  static const std::vector<CodeInfo> codes = [] {
    std::vector<CodeInfo> out;
    uint64_t address = kCodeBase;
    for (size_t i = 0; i < kPool; i++) {
      uint32_t line = static_cast<uint32_t>(7 * i + 1);
      out.push_back(testing::MakeFunction("f" + std::to_string(i) + "@prog.lua:" + std::to_string(line), address,
                                          /*frame_pointer=*/i % 2 == 0, line, "prog.lua"));
      address += (out.back().size + 15) / 16 * 16;
    }
    return out;
  }();
  return codes;
}

std::vector<const CodeInfo*> Group(size_t first, size_t count) {
  std::vector<const CodeInfo*> group;
  for (size_t i = 0; i < count; i++) group.push_back(&Functions()[(first + i) % kPool]);
  return group;
}

void Report(benchmark::State& state, double bytes_per_function, size_t functions_per_iteration) {
  state.SetItemsProcessed(static_cast<int64_t>(functions_per_iteration * state.iterations()));
  state.counters["B/fn"] = bytes_per_function;
}

void BM_Unpacked(benchmark::State& state) {
  ElfWriterOptions opts;
  size_t i = 0, bytes = 0;
  for (auto _ : state) {
    ElfImage image = WriteMiniDebugInfo({&Functions()[i++ % kPool]}, opts);
    bytes += image.size();
    benchmark::DoNotOptimize(image.data());
  }
  Report(state, static_cast<double>(bytes) / static_cast<double>(i), 1);
}
BENCHMARK(BM_Unpacked);

// What jitvm's compiler thread does per function: the CFA program encoded
// once (PrepareCode, shared with the .eh_frame listener), then the
// single-function file written into a reused buffer.
void BM_UnpackedPrepared(benchmark::State& state) {
  ElfWriterOptions opts;
  std::vector<PreparedCode> prepared(kPool);
  for (size_t k = 0; k < kPool; k++)
    if (!PrepareCode(Functions()[k], opts, &prepared[k])) state.SkipWithError("PrepareCode refused a function");
  ElfImage image;
  size_t i = 0, bytes = 0;
  for (auto _ : state) {
    WritePreparedMiniDebugInfoInto(prepared[i++ % kPool], opts, &image);
    bytes += image.size();
    benchmark::DoNotOptimize(image.data());
  }
  Report(state, static_cast<double>(bytes) / static_cast<double>(i), 1);
}
BENCHMARK(BM_UnpackedPrepared);

// The whole registration of one function as jitvm's compiler thread does it
// (JitDebugContext::AddCode, deferred mode: prepare, write, copy, link into
// the process's descriptor), then its removal, warm: the floor the in-VM
// figures (bench/debuginfo_vm_bench) are compared against.
void BM_ContextAddRemove(benchmark::State& state) {
  JitDebugOptions options;
  options.deferred = true;
  options.pack = false;
  JitDebugContext context(&GlobalJitDescriptorWriter(), options);
  size_t i = 0;
  for (auto _ : state) {
    const CodeInfo& code = Functions()[i++ % kPool];
    if (!context.AddCode(code) || !context.RemoveCode(code.address)) {
      state.SkipWithError("AddCode/RemoveCode refused a function");
      break;
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_ContextAddRemove);

void BM_Packed(benchmark::State& state) {
  size_t group_size = static_cast<size_t>(state.range(0));
  ElfWriterOptions opts;
  size_t bytes = 0;
  std::vector<const CodeInfo*> group = Group(0, group_size);
  for (auto _ : state) {
    ElfImage image = WriteMiniDebugInfo(group, opts);
    bytes = image.size();
    benchmark::DoNotOptimize(image.data());
  }
  Report(state, static_cast<double>(bytes) / static_cast<double>(group_size), group_size);
}
BENCHMARK(BM_Packed)->Arg(64)->Arg(1024);

void BM_Compressed(benchmark::State& state) {
  size_t group_size = static_cast<size_t>(state.range(0));
  ElfWriterOptions opts;
  opts.xz_preset = static_cast<uint32_t>(state.range(1));
  size_t bytes = 0;
  std::vector<const CodeInfo*> group = Group(0, group_size);
  for (auto _ : state) {
    ElfImage image = WriteCompressedDebugInfo(group, opts);
    bytes = image.size();
    benchmark::DoNotOptimize(image.data());
  }
  Report(state, static_cast<double>(bytes) / static_cast<double>(group_size), group_size);
}
BENCHMARK(BM_Compressed)->Args({48, 0})->Args({64, 0})->Args({64, 9})->Args({64, 6})->Args({1024, 9})->Args({4096, 9})->Unit(benchmark::kMicrosecond);

void BM_Full(benchmark::State& state) {
  ElfWriterOptions opts;
  opts.full = true;
  opts.comp_dir = "/home/user/project";
  size_t i = 0, bytes = 0;
  for (auto _ : state) {
    ElfImage image = WriteMiniDebugInfo({&Functions()[i++ % kPool]}, opts);
    bytes += image.size();
    benchmark::DoNotOptimize(image.data());
  }
  Report(state, static_cast<double>(bytes) / static_cast<double>(i), 1);
}
BENCHMARK(BM_Full);

void BM_EhFrameWithHdr(benchmark::State& state) {
  size_t i = 0, bytes = 0;
  for (auto _ : state) {
    const CodeInfo& code = Functions()[i++ % kPool];
    EhFrameImage eh = WriteEhFrameWithHdr(code, code.address);
    bytes += eh.bytes.size();
    benchmark::DoNotOptimize(eh.bytes.data());
  }
  Report(state, static_cast<double>(bytes) / static_cast<double>(i), 1);
}
BENCHMARK(BM_EhFrameWithHdr);

}  // namespace
}  // namespace jitscope

BENCHMARK_MAIN();
