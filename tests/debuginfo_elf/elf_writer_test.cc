#include "debuginfo/elf_writer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cinttypes>
#include <random>

#include "synthetic_code.h"
#include "tool_runner.h"

namespace jitscope {
namespace {

using testing::MakeFunction;
using testing::RunTool;
using testing::SyntheticCode;
using testing::TempDir;

constexpr uint64_t kBase = 0x7f3a12340000;
const char kLlvmDwarfdump[] = "llvm-dwarfdump-14";

std::vector<const CodeInfo*> Ptrs(const std::vector<CodeInfo>& codes) {
  std::vector<const CodeInfo*> out;
  for (const CodeInfo& code : codes) out.push_back(&code);
  return out;
}

std::string Hex(uint64_t v) {
  char buffer[32];
  snprintf(buffer, sizeof(buffer), "0x%" PRIx64, v);
  return buffer;
}

// 100 functions of both kinds, in the order a JIT compiles them (not by address).
std::vector<CodeInfo> ManyFunctions(size_t n) {
  std::vector<CodeInfo> codes;
  uint64_t address = kBase;
  for (size_t i = 0; i < n; i++) {
    codes.push_back(MakeFunction("f" + std::to_string(i) + "@bench.lua:" + std::to_string(10 * i + 1), address,
                                 /*frame_pointer=*/i % 2 == 0, static_cast<uint32_t>(10 * i + 1), "bench.lua"));
    address += (codes.back().size + 15) / 16 * 16;
  }
  std::shuffle(codes.begin(), codes.end(), std::mt19937(42));
  return codes;
}

void ExpectVerifies(const ElfImage& image, const std::vector<const CodeInfo*>& codes) {
  ASSERT_FALSE(image.empty());
  std::string error;
  EXPECT_TRUE(VerifyMiniDebugInfo(image, codes, &error)) << error;
}

TEST(ElfWriter, FramePointerFunctionIsExactAtEveryOffset) {
  CodeInfo code = MakeFunction("fib@fib.lua:3", kBase, /*frame_pointer=*/true);
  EXPECT_TRUE(code.frame.rows.size() > 20);
  ExpectVerifies(WriteMiniDebugInfo({&code}, {}), {&code});
}

TEST(ElfWriter, FramelessFunctionIsExactAtEveryOffset) {
  CodeInfo code = MakeFunction("fib@fib.lua:3", kBase, /*frame_pointer=*/false);
  ExpectVerifies(WriteMiniDebugInfo({&code}, {}), {&code});
}

TEST(ElfWriter, LeaveEpilogueLargeFrameAndLongBodies) {
  // A 4 KiB frame, bodies long enough for advance_loc1/2/4, an epilogue with
  // `leave` (CFA back to rsp+8 and rbp restored in one instruction).
  SyntheticCode c("big@big.lua:1", kBase, "big.lua", 1);
  c.Prologue(/*frame_pointer=*/true, /*locals=*/4096);
  c.Body(200, 2);
  c.Body(70000, 3);
  c.AddRsp(4096);
  for (int reg : {kDwR15, kDwR14, kDwR13, kDwR12, kDwRbx}) c.Pop(reg);
  c.Pop(kDwRbp);
  c.Ret();
  c.RestoreBody();
  c.Body(1000, 4);
  CodeInfo code = c.Finish();
  ExpectVerifies(WriteMiniDebugInfo({&code}, {}), {&code});
}

TEST(ElfWriter, CodeWithoutFrameRowsGetsASymbolButNoFde) {
  CodeInfo stub;
  stub.name = "stub";
  stub.address = kBase;
  stub.size = 32;
  CodeInfo code = MakeFunction("fib@fib.lua:3", kBase + 64, true);
  ExpectVerifies(WriteMiniDebugInfo({&stub, &code}, {}), {&stub, &code});
}

TEST(ElfWriter, PacksOneHundredFunctions) {
  std::vector<CodeInfo> codes = ManyFunctions(100);
  ElfImage packed = WriteMiniDebugInfo(Ptrs(codes), {});
  ExpectVerifies(packed, Ptrs(codes));
  ElfImage single = WriteMiniDebugInfo({&codes[0]}, {});
  EXPECT_LT(packed.size(), 100 * single.size() / 2) << "packing should share the ELF overhead";
}

// The direct single-function writer must produce the general writer's file
// byte for byte (readers, gdb and the verifier only ever saw the latter),
// whatever the name length (every padding case), program length, tier, and
// whatever the destination held before.
TEST(ElfWriter, SingleFileWriterMatchesTheGeneralWriterByteForByte) {
  std::mt19937 rng(7);
  ElfWriterOptions opts;
  ElfImage general;
  size_t checked = 0;
  for (size_t name_length = 1; name_length <= 300; name_length += (name_length < 40 ? 1 : 37)) {
    for (int variant = 0; variant < 6; variant++) {
      CodeInfo code;
      if (variant == 5) {  // no frame rows: a symbol and no FDE
        code.name = "stub";
        code.address = kBase + 16 * variant;
        code.size = 48;
      } else {
        SyntheticCode c("x", kBase + 0x1000 * variant, "s.lua", 1);
        c.Prologue(/*frame_pointer=*/variant % 2 == 0, /*locals=*/variant == 4 ? 4096 : 8);
        for (int i = 0; i < variant * 3; i++) c.Body(1 + rng() % 300, 2 + i);
        c.Epilogue(variant == 4 ? 4096 : 8);
        c.RestoreBody();
        c.Body(9, 3);
        code = c.Finish();
      }
      code.name = std::string(name_length, 'a' + variant);
      code.tier = variant == 3 ? CodeTier::kOsr : CodeTier::kBaseline;
      PreparedCode prepared;
      ASSERT_TRUE(PrepareCode(code, opts, &prepared)) << name_length << " " << variant;
      general = WriteMiniDebugInfo({&code}, opts);  // the ByteWriter-based writer, from the frame rows
      ASSERT_FALSE(general.empty());
      size_t size = SingleMiniDebugInfoSize(prepared, opts.machine);
      ASSERT_EQ(size, general.size()) << "name " << name_length << ", variant " << variant;
      std::vector<uint8_t> direct(size + 16, 0xa5);  // stale bytes before, a guard after
      WriteSingleMiniDebugInfo(prepared, opts.machine, direct.data());
      ASSERT_TRUE(std::equal(general.begin(), general.end(), direct.begin()))
          << "name " << name_length << ", variant " << variant;
      for (size_t i = size; i < direct.size(); i++) ASSERT_EQ(direct[i], 0xa5) << "wrote past the end at " << i;
      checked++;
    }
  }
  EXPECT_GT(checked, 200u);
  ElfImage into;
  PreparedCode last;
  ASSERT_TRUE(PrepareCode(MakeFunction("g@g.lua:1", kBase, true), opts, &last));
  ASSERT_TRUE(WritePreparedMiniDebugInfoInto(last, opts, &into));
  CodeInfo last_code = MakeFunction("g@g.lua:1", kBase, true);
  EXPECT_EQ(into, WriteMiniDebugInfo({&last_code}, opts));
  PreparedCode any;
  any.Set("f", nullptr, 0);
  EXPECT_EQ(SingleMiniDebugInfoSize(any, /*EM_AARCH64, no CFI yet=*/183), 0u);
}

// Packed and compressed files from prepared codes (what the VM's repacks
// write) are the general writer's, byte for byte: sets of 1..120 codes in
// any order, with and without FDEs, names of every length.
TEST(ElfWriter, PreparedPackedFilesMatchTheGeneralWriter) {
  std::mt19937 rng(11);
  ElfWriterOptions opts;
  for (size_t n : {1, 2, 3, 7, 48, 64, 120}) {
    std::vector<CodeInfo> codes = ManyFunctions(n);
    for (size_t i = 0; i < codes.size(); i++) {
      codes[i].name = std::string(1 + rng() % 70, static_cast<char>('a' + i % 26)) + std::to_string(i);
      if (i % 5 == 3) codes[i].frame.rows.clear();  // a stub: symbol, no FDE
      codes[i].tier = i % 4 == 1 ? CodeTier::kOsr : CodeTier::kBaseline;
    }
    std::vector<PreparedCode> prepared(codes.size());
    std::vector<const PreparedCode*> ptrs;
    for (size_t i = 0; i < codes.size(); i++) {
      ASSERT_TRUE(PrepareCode(codes[i], opts, &prepared[i]));
      ptrs.push_back(&prepared[i]);
    }
    ElfImage general = WriteMiniDebugInfo(Ptrs(codes), opts);
    ASSERT_FALSE(general.empty());
    EXPECT_EQ(WritePreparedMiniDebugInfo(ptrs, opts), general) << n << " codes";
    ExpectVerifies(WritePreparedMiniDebugInfo(ptrs, opts), Ptrs(codes));
    EXPECT_EQ(WritePreparedCompressedDebugInfo(ptrs, opts), WriteCompressedDebugInfo(Ptrs(codes), opts))
        << n << " codes";
  }
}

TEST(ElfWriter, RejectsBadInput) {
  CodeInfo code = MakeFunction("fib@fib.lua:3", kBase, true);
  std::swap(code.frame.rows[1], code.frame.rows[2]);
  std::string error;
  EXPECT_FALSE(ValidateCodeInfo(code, {}, &error));
  EXPECT_NE(error.find("not sorted"), std::string::npos) << error;
  EXPECT_TRUE(WriteMiniDebugInfo({&code}, {}).empty());
  EXPECT_TRUE(WriteMiniDebugInfo({}, {}).empty());

  CodeInfo good = MakeFunction("fib@fib.lua:3", kBase, true);
  ElfWriterOptions arm;
  arm.machine = 183;  // EM_AARCH64: frame rows are x86-64 only for now
  EXPECT_TRUE(WriteMiniDebugInfo({&good}, arm).empty());

  // A verifier that accepts anything proves nothing.
  CodeInfo other = good;
  other.frame.rows[3].cfa_offset += 8;
  EXPECT_FALSE(VerifyMiniDebugInfo(WriteMiniDebugInfo({&good}, {}), {&other}, &error));
  EXPECT_NE(error.find("CFA"), std::string::npos) << error;
}

TEST(ElfWriter, FullModeLinesAndSubprograms) {
  CodeInfo fib = MakeFunction("fib@fib.lua:3", kBase, true, 3, "fib.lua");
  CodeInfo main_chunk = MakeFunction("main@main.lua:1", kBase + 0x1000, false, 1, "main.lua");
  ElfWriterOptions opts;
  opts.full = true;
  opts.comp_dir = "/src";
  ExpectVerifies(WriteMiniDebugInfo({&fib, &main_chunk}, opts), {&fib, &main_chunk});
}

TEST(ElfWriter, ReadelfAcceptsMiniFile) {
  if (!testing::HaveTool("readelf")) GTEST_SKIP() << "readelf is not installed";
  CodeInfo code = MakeFunction("fib@fib.lua:3", kBase, true);
  TempDir dir;
  std::string file = dir.Write("mini.elf", WriteMiniDebugInfo({&code}, {}));
  auto r = RunTool("readelf -W -S -s --debug-dump=frames " + file);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("Warning"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("Error"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(" FUNC    GLOBAL DEFAULT    1 fib@fib.lua:3"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("NOBITS"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("DW_CFA_def_cfa_register: r6 (rbp)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("pc=00007f3a12340000"), std::string::npos) << r.output;
}

TEST(ElfWriter, LlvmDwarfdumpAcceptsPackedDebugFrame) {
  if (!testing::HaveTool(kLlvmDwarfdump)) GTEST_SKIP() << kLlvmDwarfdump << " is not installed";
  std::vector<CodeInfo> codes = ManyFunctions(100);
  TempDir dir;
  std::string file = dir.Write("packed.elf", WriteMiniDebugInfo(Ptrs(codes), {}));
  auto r = RunTool(std::string(kLlvmDwarfdump) + " --debug-frame " + file);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("error"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("warning"), std::string::npos) << r.output;
  size_t fdes = 0;
  for (size_t at = r.output.find(" FDE "); at != std::string::npos; at = r.output.find(" FDE ", at + 1)) fdes++;
  EXPECT_EQ(fdes, 100u) << r.output.substr(0, 2000);
  EXPECT_NE(r.output.find("DW_CFA_restore: RBX"), std::string::npos) << r.output.substr(0, 4000);
}

TEST(ElfWriter, LlvmDwarfdumpVerifiesFullMode) {
  if (!testing::HaveTool(kLlvmDwarfdump)) GTEST_SKIP() << kLlvmDwarfdump << " is not installed";
  CodeInfo fib = MakeFunction("fib@fib.lua:3", kBase, true, 3, "fib.lua");
  ElfWriterOptions opts;
  opts.full = true;
  opts.comp_dir = "/src";
  TempDir dir;
  std::string file = dir.Write("full.elf", WriteMiniDebugInfo({&fib}, opts));
  auto verify = RunTool(std::string(kLlvmDwarfdump) + " --verify " + file);
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
  EXPECT_NE(verify.output.find("No errors."), std::string::npos) << verify.output;

  auto lines = RunTool(std::string(kLlvmDwarfdump) + " --debug-line " + file);
  ASSERT_EQ(lines.exit_code, 0) << lines.output;
  // One row per line change: 4, 5, 6, 4, 7 (first_line 3 has no code of its own).
  for (const LineEntry& entry : fib.lines) {
    char row[64];
    snprintf(row, sizeof(row), "0x%016" PRIx64 " %6u", fib.address + entry.code_offset, entry.line);
    EXPECT_NE(lines.output.find(row), std::string::npos) << row << "\n" << lines.output;
  }
  EXPECT_NE(lines.output.find("end_sequence"), std::string::npos) << lines.output;

  auto info = RunTool(std::string(kLlvmDwarfdump) + " --debug-info " + file);
  EXPECT_NE(info.output.find("DW_AT_name\t(\"fib\")"), std::string::npos) << info.output;
  EXPECT_NE(info.output.find("DW_AT_comp_dir\t(\"/src\")"), std::string::npos) << info.output;
}

TEST(ElfWriter, GdbResolvesLuaLinesInFullMode) {
  if (!testing::HaveTool("gdb")) GTEST_SKIP() << "gdb is not installed";
  CodeInfo fib = MakeFunction("fib@fib.lua:3", kBase, true, 3, "fib.lua");
  ElfWriterOptions opts;
  opts.full = true;
  TempDir dir;
  opts.comp_dir = dir.path();
  std::string file = dir.Write("full.elf", WriteMiniDebugInfo({&fib}, opts));
  uint64_t line5 = fib.address + fib.lines[1].code_offset;
  auto r = RunTool("gdb -nx -batch -ex 'info line *" + Hex(line5) + "' -ex 'break fib.lua:4' -ex 'info scope fib.lua:5' " + file);
  EXPECT_NE(r.output.find("Line 5 of \"fib.lua\""), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Breakpoint 1 at"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("fib.lua, line 4"), std::string::npos) << r.output;
}

TEST(ElfWriter, GdbReadsSymbolsOfCompressedFile) {
  if (!testing::HaveTool("gdb")) GTEST_SKIP() << "gdb is not installed";
  std::vector<CodeInfo> codes = ManyFunctions(64);
  TempDir dir;
  std::string file = dir.Write("compressed.elf", WriteCompressedDebugInfo(Ptrs(codes), {}));
  const CodeInfo& probe = codes[17];
  auto r = RunTool("gdb -nx -batch -ex 'info symbol " + Hex(probe.address + 5) + "' " + file);
  EXPECT_NE(r.output.find(probe.name + " + 5 in section .text"), std::string::npos) << r.output;
}

TEST(ElfWriter, CompressedFileDecompressesWithXzAndVerifies) {
  if (!testing::HaveTool("xz") || !testing::HaveTool("objcopy"))
    GTEST_SKIP() << "xz or objcopy is not installed";
  // Enough functions for an inner file of several 16 KiB blocks.
  std::vector<CodeInfo> codes = ManyFunctions(400);
  ElfImage outer = WriteCompressedDebugInfo(Ptrs(codes), {});
  ExpectVerifies(outer, Ptrs(codes));
  ElfImage mini = WriteMiniDebugInfo(Ptrs(codes), {});
  EXPECT_LT(outer.size(), mini.size() / 3) << "compression should pay";

  TempDir dir;
  std::string file = dir.Write("outer.elf", outer);
  auto dump = RunTool("objcopy --dump-section .gnu_debugdata=" + dir.path() + "/inner.xz " + file + " " +
                      dir.path() + "/copy.elf");
  ASSERT_EQ(dump.exit_code, 0) << dump.output;
  auto test = RunTool("xz -t " + dir.path() + "/inner.xz");
  EXPECT_EQ(test.exit_code, 0) << test.output;
  auto list = RunTool("xz --robot -lv " + dir.path() + "/inner.xz");
  ASSERT_EQ(list.exit_code, 0) << list.output;
  size_t blocks = 0;
  for (size_t at = list.output.find("\nblock\t"); at != std::string::npos; at = list.output.find("\nblock\t", at + 1))
    blocks++;
  EXPECT_GE(blocks, (mini.size() + 16383) / 16384) << list.output;
  EXPECT_NE(list.output.find("CRC32"), std::string::npos) << list.output;

  auto unpack = RunTool("xz -d -c " + dir.path() + "/inner.xz > " + dir.path() + "/inner.elf");
  ASSERT_EQ(unpack.exit_code, 0) << unpack.output;
  ElfImage inner = dir.Read("inner.elf");
  EXPECT_EQ(inner, mini);
  ExpectVerifies(inner, Ptrs(codes));
}

TEST(ElfWriter, EhFrameWithHdrForJitdump) {
  CodeInfo code = MakeFunction("fib@fib.lua:3", kBase, false);
  EhFrameImage eh = WriteEhFrameWithHdr(code, code.address);
  ASSERT_FALSE(eh.bytes.empty());
  EXPECT_EQ(eh.eh_frame_address, code.address + (code.size + 7) / 8 * 8);
  EXPECT_EQ(eh.unwinding_size, eh.bytes.size());
  EXPECT_EQ(eh.eh_frame_hdr_size, 20u);  // version, encodings, eh_frame_ptr, count, one table entry
  EXPECT_EQ(eh.mapped_size, eh.unwinding_size);
  std::string error;
  EXPECT_TRUE(VerifyEhFrameWithHdr(eh, code, code.address, &error)) << error;

  // perf inject puts the code at its own address in the jitted .so: the bytes
  // are position independent as long as the distance is kept.
  EhFrameImage moved = WriteEhFrameWithHdr(code, 0x80);
  EXPECT_EQ(moved.bytes, eh.bytes);
  EXPECT_TRUE(VerifyEhFrameWithHdr(moved, code, 0x80, &error)) << error;

  CodeInfo fp = MakeFunction("fp@fib.lua:3", kBase, true);
  EhFrameImage fp_eh = WriteEhFrameWithHdrAt(fp, fp.address, fp.address - 0x100000);
  EXPECT_TRUE(VerifyEhFrameWithHdr(fp_eh, fp, fp.address, &error)) << error;
  EXPECT_TRUE(WriteEhFrameWithHdrAt(fp, fp.address, fp.address + (uint64_t{1} << 33)).bytes.empty());
}

TEST(ElfWriter, LlvmDwarfdumpAndReadelfAcceptEhFrame) {
  if (!testing::HaveTool(kLlvmDwarfdump) || !testing::HaveTool("readelf"))
    GTEST_SKIP() << kLlvmDwarfdump << " or readelf is not installed";
  CodeInfo code = MakeFunction("fib@fib.lua:3", kBase, true);
  EhFrameImage eh = WriteEhFrameWithHdr(code, code.address);
  TempDir dir;
  std::string file = dir.Write("eh.elf", WrapEhFrameInElf(code, code.address, eh));
  auto r = RunTool(std::string(kLlvmDwarfdump) + " --eh-frame " + file);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("error"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Augmentation:          \"zR\""), std::string::npos) << r.output;
  char range[80];
  snprintf(range, sizeof(range), "pc=%08" PRIx64 "...%08" PRIx64, code.address, code.address + code.size);
  EXPECT_NE(r.output.find(range), std::string::npos) << range << "\n" << r.output;

  auto readelf = RunTool("readelf -W --debug-dump=frames " + file);
  ASSERT_EQ(readelf.exit_code, 0) << readelf.output;
  EXPECT_EQ(readelf.output.find("Warning"), std::string::npos) << readelf.output;
  EXPECT_NE(readelf.output.find("DW_CFA_def_cfa_register: r6 (rbp)"), std::string::npos) << readelf.output;
}

}  // namespace
}  // namespace jitscope
