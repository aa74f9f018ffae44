// ParseSymfile and LookupLine: the symbol files our writers produce (single,
// packed, xz-compressed, full mode with DWARF lines), an LLVM-style ET_REL
// object written by hand, and hostile input (truncation, byte flips, bad
// offsets, garbage .gnu_debugdata, limits).
#include "debuginfo/symfile.h"

#include <elf.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "debuginfo/code_event.h"
#include "debuginfo/elf_writer.h"

namespace jitscope {
namespace {

constexpr uint64_t kBase = 0x7f0000010000;

// The code layout of MakeFunction (x86-64 instruction sizes).
constexpr uint32_t kPushRbpEnd = 1;    // push rbp
constexpr uint32_t kMovRbpEnd = 4;     // mov rbp, rsp
constexpr uint32_t kSecondLine = 24;   // body: two 20-byte line ranges
constexpr uint32_t kPopRbpEnd = 45;    // pop rbp
constexpr uint64_t kFunctionSize = 46; // ret

// push rbp; mov rbp, rsp; 40 body bytes on lines first_line+1 and +2; pop rbp; ret.
CodeInfo MakeFunction(const std::string& name, uint64_t address, const std::string& source = "fib.lua",
                      uint32_t first_line = 3) {
  CodeInfo code;
  code.name = name;
  code.address = address;
  code.size = kFunctionSize;
  code.source = source;
  code.first_line = first_line;
  FrameRow entry;  // CFA = rsp + 8
  FrameRow pushed = entry;
  pushed.code_offset = kPushRbpEnd;
  pushed.cfa_offset = 16;
  pushed.saved_offset[kDwRbp] = -16;
  FrameRow framed = pushed;
  framed.code_offset = kMovRbpEnd;
  framed.cfa_reg = kDwRbp;
  FrameRow popped = entry;
  popped.code_offset = kPopRbpEnd;
  code.frame.rows = {entry, pushed, framed, popped};
  code.frame.uses_frame_pointer = true;
  code.lines = {{kMovRbpEnd, first_line + 1, 0}, {kSecondLine, first_line + 2, 1}};
  return code;
}

std::vector<const CodeInfo*> Ptrs(const std::vector<CodeInfo>& codes) {
  std::vector<const CodeInfo*> out;
  for (const CodeInfo& code : codes) out.push_back(&code);
  return out;
}

Result<SymfileInfo> Parse(const std::vector<uint8_t>& bytes, const SymfileLimits& limits = {}) {
  return ParseSymfile(bytes.data(), bytes.size(), limits);
}

// Three functions 0x100 apart, handed to the writer out of address order.
std::vector<CodeInfo> ThreeFunctions() {
  return {MakeFunction("b@t.lua:20", kBase + 0x100, "t.lua", 20), MakeFunction("c@t.lua:30", kBase + 0x200, "t.lua", 30),
          MakeFunction("a@t.lua:10", kBase, "t.lua", 10)};
}

std::vector<uint8_t> PackedFile() {
  std::vector<CodeInfo> codes = ThreeFunctions();
  return WriteMiniDebugInfo(Ptrs(codes), {});
}

std::vector<CodeInfo> ManyFunctions(size_t n) {
  std::vector<CodeInfo> codes;
  for (size_t i = 0; i < n; i++) codes.push_back(MakeFunction("fn" + std::to_string(i), kBase + i * 0x40));
  return codes;
}

std::vector<uint8_t> CompressedFile(size_t n) {
  std::vector<CodeInfo> codes = ManyFunctions(n);
  return WriteCompressedDebugInfo(Ptrs(codes), {});
}

// The section header named `name` inside an ELF64 image (nullptr if absent).
Elf64_Shdr* FindSection(std::vector<uint8_t>& bytes, const std::string& name) {
  Elf64_Ehdr ehdr;
  std::memcpy(&ehdr, bytes.data(), sizeof(ehdr));
  auto* shdrs = reinterpret_cast<Elf64_Shdr*>(bytes.data() + ehdr.e_shoff);
  const char* names = reinterpret_cast<const char*>(bytes.data() + shdrs[ehdr.e_shstrndx].sh_offset);
  for (size_t i = 0; i < ehdr.e_shnum; i++)
    if (name == names + shdrs[i].sh_name) return &shdrs[i];
  return nullptr;
}

TEST(SymfileReader, SingleFunction) {
  CodeInfo code = MakeFunction("fib@fib.lua:3", kBase);
  std::vector<uint8_t> bytes = WriteMiniDebugInfo({&code}, {});
  ASSERT_FALSE(bytes.empty());
  Result<SymfileInfo> r = Parse(bytes);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->kind, SymfileKind::kSingle);
  EXPECT_STREQ(SymfileKindName(r->kind), "unpacked");
  EXPECT_EQ(r->elf_type, ET_DYN);
  EXPECT_EQ(r->machine, EM_X86_64);
  ASSERT_EQ(r->functions.size(), 1u);
  EXPECT_EQ(r->functions[0].name, "fib@fib.lua:3");
  EXPECT_EQ(r->functions[0].address, kBase);
  EXPECT_EQ(r->functions[0].size, kFunctionSize);
  EXPECT_EQ(r->functions[0].file, "");
  EXPECT_EQ(r->functions[0].line, 0u);
  EXPECT_TRUE(r->has_cfi);
  EXPECT_EQ(r->text_address, kBase);
  EXPECT_EQ(r->text_size, kFunctionSize);
  EXPECT_TRUE(r->lines.empty());
  EXPECT_TRUE(r->files.empty());
  EXPECT_EQ(r->inner_size, 0u);
  EXPECT_TRUE(r->segments.empty());
}

TEST(SymfileReader, PackedThreeFunctionsSortedByAddress) {
  std::vector<uint8_t> bytes = PackedFile();
  ASSERT_FALSE(bytes.empty());
  Result<SymfileInfo> r = Parse(bytes);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->kind, SymfileKind::kPacked);
  ASSERT_EQ(r->functions.size(), 3u);
  const char* names[] = {"a@t.lua:10", "b@t.lua:20", "c@t.lua:30"};
  for (size_t i = 0; i < 3; i++) {
    SCOPED_TRACE(i);
    EXPECT_EQ(r->functions[i].name, names[i]);
    EXPECT_EQ(r->functions[i].address, kBase + i * 0x100);
    EXPECT_EQ(r->functions[i].size, kFunctionSize);
  }
  EXPECT_TRUE(r->has_cfi);
  EXPECT_EQ(r->text_address, kBase);
  EXPECT_EQ(r->text_size, 0x200 + kFunctionSize);
}

TEST(SymfileReader, Compressed64Functions) {
  std::vector<uint8_t> bytes = CompressedFile(64);
  ASSERT_FALSE(bytes.empty());
  Result<SymfileInfo> r = Parse(bytes);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->kind, SymfileKind::kCompressed);
  EXPECT_STREQ(SymfileKindName(r->kind), "compressed");
  EXPECT_GT(r->inner_size, bytes.size() / 2);  // the inner file has every name and FDE
  EXPECT_TRUE(r->has_cfi);                      // the inner file's .debug_frame
  ASSERT_EQ(r->functions.size(), 64u);
  for (size_t i = 0; i < 64; i++) {
    SCOPED_TRACE(i);
    EXPECT_EQ(r->functions[i].name, "fn" + std::to_string(i));
    EXPECT_EQ(r->functions[i].address, kBase + i * 0x40);
    EXPECT_EQ(r->functions[i].size, kFunctionSize);
  }
  // The outer .text describes the whole range without decompressing.
  EXPECT_EQ(r->text_address, kBase);
  EXPECT_EQ(r->text_size, 63 * 0x40 + kFunctionSize);
}

TEST(SymfileReader, CompressedInnerSizeIsTheMiniFile) {
  std::vector<CodeInfo> codes = ManyFunctions(64);
  std::vector<uint8_t> mini = WriteMiniDebugInfo(Ptrs(codes), {});
  std::vector<uint8_t> compressed = WriteCompressedDebugInfo(Ptrs(codes), {});
  ASSERT_FALSE(mini.empty());
  ASSERT_FALSE(compressed.empty());
  Result<SymfileInfo> r = Parse(compressed);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->inner_size, mini.size());
}

TEST(SymfileReader, FullModeLinesAndSubprograms) {
  // Two sources, so two compile units; a gap between the functions.
  std::vector<CodeInfo> codes = {MakeFunction("fib@fib.lua:3", kBase, "fib.lua", 3),
                                 MakeFunction("map@util.lua:10", kBase + 0x80, "util.lua", 10)};
  ElfWriterOptions opts;
  opts.full = true;
  opts.comp_dir = "/src";
  std::vector<uint8_t> bytes = WriteMiniDebugInfo(Ptrs(codes), opts);
  ASSERT_FALSE(bytes.empty());
  Result<SymfileInfo> r = Parse(bytes);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->kind, SymfileKind::kPacked);
  ASSERT_FALSE(r->lines.empty());
  for (size_t i = 1; i < r->lines.size(); i++) EXPECT_LE(r->lines[i - 1].address, r->lines[i].address);
  ASSERT_EQ(r->files.size(), 2u);
  EXPECT_EQ(r->files[0], "/src/fib.lua");
  EXPECT_EQ(r->files[1], "/src/util.lua");

  struct Expect {
    uint64_t address;
    const char* file;
    uint32_t line;
  };
  const Expect expects[] = {
      {kBase, "/src/fib.lua", 3},  // the prologue: the definition's line
      {kBase + kPushRbpEnd, "/src/fib.lua", 3},
      {kBase + kMovRbpEnd, "/src/fib.lua", 4},
      {kBase + kSecondLine - 1, "/src/fib.lua", 4},
      {kBase + kSecondLine, "/src/fib.lua", 5},
      {kBase + kFunctionSize - 1, "/src/fib.lua", 5},  // the epilogue stays on the last line
      {kBase + kFunctionSize, "", 0},                  // past the end: the gap
      {kBase + 0x7f, "", 0},
      {kBase + 0x80, "/src/util.lua", 10},
      {kBase + 0x80 + kMovRbpEnd, "/src/util.lua", 11},
      {kBase + 0x80 + kSecondLine + 3, "/src/util.lua", 12},
      {kBase + 0x80 + kFunctionSize, "", 0},
      {kBase - 1, "", 0},
  };
  for (const Expect& e : expects) {
    SCOPED_TRACE(HexAddress(e.address));
    SourceLocation loc = LookupLine(*r, e.address);
    EXPECT_EQ(loc.file, e.file);
    EXPECT_EQ(loc.line, e.line);
  }

  ASSERT_EQ(r->functions.size(), 2u);
  EXPECT_EQ(r->functions[0].name, "fib@fib.lua:3");
  EXPECT_EQ(r->functions[0].file, "/src/fib.lua");
  EXPECT_EQ(r->functions[0].line, 3u);
  EXPECT_EQ(r->functions[1].name, "map@util.lua:10");
  EXPECT_EQ(r->functions[1].file, "/src/util.lua");
  EXPECT_EQ(r->functions[1].line, 10u);
}

TEST(SymfileReader, FullModeWithoutReadingLines) {
  CodeInfo code = MakeFunction("fib@fib.lua:3", kBase);
  ElfWriterOptions opts;
  opts.full = true;
  opts.comp_dir = "/src";
  std::vector<uint8_t> bytes = WriteMiniDebugInfo({&code}, opts);
  ASSERT_FALSE(bytes.empty());
  SymfileLimits limits;
  limits.read_lines = false;
  Result<SymfileInfo> r = Parse(bytes, limits);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_TRUE(r->lines.empty());
  EXPECT_TRUE(r->files.empty());
  ASSERT_EQ(r->functions.size(), 1u);
  EXPECT_EQ(r->functions[0].line, 0u);
  EXPECT_EQ(LookupLine(*r, kBase + kSecondLine).line, 0u);
}

TEST(SymfileReader, FullModeMaxLinesBoundsTheTable) {
  std::vector<CodeInfo> codes = ManyFunctions(8);
  ElfWriterOptions opts;
  opts.full = true;
  opts.comp_dir = "/src";
  std::vector<uint8_t> bytes = WriteMiniDebugInfo(Ptrs(codes), opts);
  ASSERT_FALSE(bytes.empty());
  SymfileLimits limits;
  limits.max_lines = 5;
  Result<SymfileInfo> r = Parse(bytes, limits);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->lines.size(), 5u);
  EXPECT_EQ(r->functions.size(), 8u);
}

// Two adjacent functions from different sources, where the later function's
// source had an earlier compile unit: at the shared address the other unit's
// end_sequence row must not hide the row that starts the later function
// (a bug this test found: end_sequence rows now sort first).
TEST(SymfileReader, LookupLineAtAdjacentFunctionOfAnEarlierUnit) {
  std::vector<CodeInfo> codes = {MakeFunction("f@a.lua:3", kBase, "a.lua", 3),
                                 MakeFunction("g@b.lua:10", kBase + kFunctionSize, "b.lua", 10),
                                 MakeFunction("h@a.lua:20", kBase + 2 * kFunctionSize, "a.lua", 20)};
  ElfWriterOptions opts;
  opts.full = true;
  opts.comp_dir = "/src";
  std::vector<uint8_t> bytes = WriteMiniDebugInfo(Ptrs(codes), opts);
  ASSERT_FALSE(bytes.empty());
  Result<SymfileInfo> r = Parse(bytes);
  ASSERT_TRUE(r.ok()) << r.error();
  SourceLocation g = LookupLine(*r, kBase + kFunctionSize);
  EXPECT_EQ(g.file, "/src/b.lua");
  EXPECT_EQ(g.line, 10u);
  SourceLocation h = LookupLine(*r, kBase + 2 * kFunctionSize);
  EXPECT_EQ(h.file, "/src/a.lua");
  EXPECT_EQ(h.line, 20u);
}

// An object as LLVM's MCJIT registers it: ET_REL, symbols relative to their
// section, sh_addr patched to where the section was loaded.
constexpr uint64_t kRelText = 0x7f0000001000;

std::vector<uint8_t> RelocatableObject() {
  const char strtab[] = "\0jit.ll\0rel_a\0rel_b\0ext\0ext_fn";
  enum : uint32_t { kFileName = 1, kA = 8, kB = 14, kExt = 20, kExtFn = 24 };
  const char shstrtab[] = "\0.text\0.symtab\0.strtab\0.shstrtab";
  enum : uint32_t { kText = 1, kSymtab = 7, kStrtab = 15, kShstrtab = 23 };

  std::vector<Elf64_Sym> syms(6);
  syms[1].st_name = kFileName;
  syms[1].st_info = ELF64_ST_INFO(STB_LOCAL, STT_FILE);
  syms[1].st_shndx = SHN_ABS;
  syms[2].st_name = kA;
  syms[2].st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC);
  syms[2].st_shndx = 1;
  syms[2].st_value = 0;
  syms[2].st_size = 0x10;
  syms[3].st_name = kB;
  syms[3].st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC);
  syms[3].st_shndx = 1;
  syms[3].st_value = 0x10;
  syms[3].st_size = 0x18;
  syms[4].st_name = kExt;
  syms[4].st_info = ELF64_ST_INFO(STB_GLOBAL, STT_NOTYPE);
  syms[4].st_shndx = SHN_UNDEF;
  syms[5].st_name = kExtFn;  // an undefined function is not ours either
  syms[5].st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC);
  syms[5].st_shndx = SHN_UNDEF;

  std::vector<uint8_t> out(sizeof(Elf64_Ehdr));
  auto append = [&out](const void* p, size_t n, size_t align) {
    out.resize((out.size() + align - 1) / align * align);
    size_t at = out.size();
    out.insert(out.end(), static_cast<const uint8_t*>(p), static_cast<const uint8_t*>(p) + n);
    return at;
  };
  std::vector<uint8_t> code(0x28, 0xcc);
  size_t text_at = append(code.data(), code.size(), 16);
  size_t symtab_at = append(syms.data(), syms.size() * sizeof(Elf64_Sym), 8);
  size_t strtab_at = append(strtab, sizeof(strtab), 1);
  size_t shstrtab_at = append(shstrtab, sizeof(shstrtab), 1);

  std::vector<Elf64_Shdr> shdrs(5);
  shdrs[1] = {kText, SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, kRelText, text_at, code.size(), 0, 0, 16, 0};
  shdrs[2] = {kSymtab, SHT_SYMTAB, 0, 0, symtab_at, syms.size() * sizeof(Elf64_Sym), 3, 2, 8, sizeof(Elf64_Sym)};
  shdrs[3] = {kStrtab, SHT_STRTAB, 0, 0, strtab_at, sizeof(strtab), 0, 0, 1, 0};
  shdrs[4] = {kShstrtab, SHT_STRTAB, 0, 0, shstrtab_at, sizeof(shstrtab), 0, 0, 1, 0};
  size_t shoff = append(shdrs.data(), shdrs.size() * sizeof(Elf64_Shdr), 8);

  Elf64_Ehdr ehdr = {};
  std::memcpy(ehdr.e_ident, ELFMAG, SELFMAG);
  ehdr.e_ident[EI_CLASS] = ELFCLASS64;
  ehdr.e_ident[EI_DATA] = ELFDATA2LSB;
  ehdr.e_ident[EI_VERSION] = EV_CURRENT;
  ehdr.e_type = ET_REL;
  ehdr.e_machine = EM_X86_64;
  ehdr.e_version = EV_CURRENT;
  ehdr.e_shoff = shoff;
  ehdr.e_ehsize = sizeof(Elf64_Ehdr);
  ehdr.e_shentsize = sizeof(Elf64_Shdr);
  ehdr.e_shnum = static_cast<uint16_t>(shdrs.size());
  ehdr.e_shstrndx = 4;
  std::memcpy(out.data(), &ehdr, sizeof(ehdr));
  return out;
}

TEST(SymfileReader, RelocatableObjectUsesPatchedSectionAddresses) {
  std::vector<uint8_t> bytes = RelocatableObject();
  Result<SymfileInfo> r = Parse(bytes);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->kind, SymfileKind::kRelocatable);
  EXPECT_STREQ(SymfileKindName(r->kind), "object");
  EXPECT_EQ(r->elf_type, ET_REL);
  EXPECT_EQ(r->machine, EM_X86_64);
  ASSERT_EQ(r->functions.size(), 2u);  // FILE, NOTYPE and undefined symbols left out
  EXPECT_EQ(r->functions[0].name, "rel_a");
  EXPECT_EQ(r->functions[0].address, kRelText);
  EXPECT_EQ(r->functions[0].size, 0x10u);
  EXPECT_EQ(r->functions[1].name, "rel_b");
  EXPECT_EQ(r->functions[1].address, kRelText + 0x10);
  EXPECT_EQ(r->functions[1].size, 0x18u);
  EXPECT_FALSE(r->has_cfi);
  EXPECT_EQ(r->text_address, kRelText);  // from the functions
  EXPECT_EQ(r->text_size, 0x28u);
}

TEST(SymfileReader, RelocatableSymbolOfAnUnloadedSectionIndexIsSkipped) {
  std::vector<uint8_t> bytes = RelocatableObject();
  Elf64_Shdr* symtab = FindSection(bytes, ".symtab");
  ASSERT_NE(symtab, nullptr);
  auto* syms = reinterpret_cast<Elf64_Sym*>(bytes.data() + symtab->sh_offset);
  syms[3].st_shndx = 40;  // no such section
  Result<SymfileInfo> r = Parse(bytes);
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_EQ(r->functions.size(), 1u);
  EXPECT_EQ(r->functions[0].name, "rel_a");
}

TEST(SymfileReader, EmptyAndTinyInputsAreErrors) {
  const uint8_t byte = 0;
  Result<SymfileInfo> empty = ParseSymfile(&byte, 0);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error(), "not an ELF file");

  const uint8_t magic[] = {0x7f, 'E', 'L', 'F'};
  Result<SymfileInfo> only_magic = ParseSymfile(magic, sizeof(magic));
  ASSERT_FALSE(only_magic.ok());
  EXPECT_EQ(only_magic.error(), "not an ELF file");

  std::vector<uint8_t> bytes = PackedFile();
  bytes[1] = 'e';
  Result<SymfileInfo> bad_magic = Parse(bytes);
  ASSERT_FALSE(bad_magic.ok());
  EXPECT_EQ(bad_magic.error(), "not an ELF file");
}

TEST(SymfileReader, ThirtyTwoBitClassIsAnError) {
  std::vector<uint8_t> bytes = PackedFile();
  ASSERT_FALSE(bytes.empty());
  bytes[EI_CLASS] = ELFCLASS32;
  Result<SymfileInfo> r = Parse(bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "not a 64-bit ELF file");
}

TEST(SymfileReader, EveryTruncationIsHandled) {
  std::vector<CodeInfo> codes = ThreeFunctions();
  ElfWriterOptions full;
  full.full = true;
  full.comp_dir = "/src";
  const std::vector<std::vector<uint8_t>> files = {PackedFile(), CompressedFile(8),
                                                   WriteMiniDebugInfo(Ptrs(codes), full), RelocatableObject()};
  for (const std::vector<uint8_t>& file : files) {
    ASSERT_FALSE(file.empty());
    ASSERT_TRUE(Parse(file).ok());
    size_t errors = 0;
    for (size_t length = 0; length < file.size(); length++) {
      SCOPED_TRACE(length);
      // A copy of exactly `length` bytes, so ASan sees any read past the end.
      std::vector<uint8_t> prefix(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(length));
      Result<SymfileInfo> r = ParseSymfile(prefix.data(), prefix.size());
      if (!r.ok()) {
        errors++;
        continue;
      }
      // The section headers are the file's tail: a truncated file never
      // yields symbols, lines or CFI (it is an error; see
      // SectionHeaderTableOutsideTheFileIsAnError).
      EXPECT_TRUE(r->functions.empty());
      EXPECT_TRUE(r->lines.empty());
      EXPECT_FALSE(r->has_cfi);
    }
    EXPECT_GE(errors, std::min<size_t>(file.size(), sizeof(Elf64_Ehdr)));  // no ELF header: always an error
  }
}

// Flips a few random bytes many times over; the result does not matter, only
// that parsing neither crashes (nor trips ASan) nor writes to its input.
void FlipBytes(const std::vector<uint8_t>& original, uint32_t seed, int iterations) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<size_t> where(0, original.size() - 1);
  std::uniform_int_distribution<int> count(1, 8);
  std::uniform_int_distribution<int> value(0, 255);
  int parsed = 0;
  for (int i = 0; i < iterations; i++) {
    std::vector<uint8_t> bytes = original;
    for (int n = count(rng); n > 0; n--) bytes[where(rng)] = static_cast<uint8_t>(value(rng));
    const std::vector<uint8_t> before = bytes;
    SymfileLimits limits;
    limits.max_decompressed = 1 << 20;
    Result<SymfileInfo> r = Parse(bytes, limits);
    ASSERT_EQ(bytes, before) << "iteration " << i << " wrote to its input";
    if (r.ok()) {
      parsed++;
      EXPECT_LE(r->functions.size(), limits.max_functions);
      for (size_t k = 1; k < r->functions.size(); k++)
        ASSERT_LE(r->functions[k - 1].address, r->functions[k].address);
    }
  }
  // Many flips land in bytes the reader does not interpret (e.g. xz payload
  // flips fail the CRC, so fewer of the compressed file's parse).
  EXPECT_GT(parsed, iterations / 10);
}

TEST(SymfileReader, RandomByteFlipsOfPackedFile) { FlipBytes(PackedFile(), 1234, 4000); }

TEST(SymfileReader, RandomByteFlipsOfCompressedFile) { FlipBytes(CompressedFile(16), 5678, 3000); }

TEST(SymfileReader, RandomByteFlipsOfRelocatableObject) { FlipBytes(RelocatableObject(), 91, 3000); }

// libelf silently treats a section header table that lies (partly) outside
// the buffer as "no sections"; ParseSymfile must report it instead of
// returning an empty but "valid" file (a bug this test found).
TEST(SymfileReader, SectionHeaderTableOutsideTheFileIsAnError) {
  std::vector<uint8_t> bytes = PackedFile();
  ASSERT_FALSE(bytes.empty());
  for (uint64_t shoff : {uint64_t{bytes.size()}, uint64_t{bytes.size()} + 0x1000, uint64_t{bytes.size()} - 8,
                         ~uint64_t{0} - 0x30}) {
    SCOPED_TRACE(shoff);
    std::vector<uint8_t> copy = bytes;
    Elf64_Ehdr ehdr;
    std::memcpy(&ehdr, copy.data(), sizeof(ehdr));
    ehdr.e_shoff = shoff;
    std::memcpy(copy.data(), &ehdr, sizeof(ehdr));
    Result<SymfileInfo> r = Parse(copy);
    EXPECT_FALSE(r.ok());
  }
}

TEST(SymfileReader, SectionDataOutsideTheFileIsAnError) {
  for (uint64_t offset : {uint64_t{1} << 20, ~uint64_t{0} - 4}) {
    SCOPED_TRACE(offset);
    std::vector<uint8_t> bytes = PackedFile();
    Elf64_Shdr* symtab = FindSection(bytes, ".symtab");
    ASSERT_NE(symtab, nullptr);
    symtab->sh_offset = offset;
    Result<SymfileInfo> r = Parse(bytes);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().find("outside"), std::string::npos) << r.error();
  }
  std::vector<uint8_t> bytes = PackedFile();
  Elf64_Shdr* symtab = FindSection(bytes, ".symtab");
  ASSERT_NE(symtab, nullptr);
  symtab->sh_size = bytes.size();  // starts inside, ends past the end
  Result<SymfileInfo> r = Parse(bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "section .symtab lies outside the file");
}

TEST(SymfileReader, GarbageDebugdataIsAnError) {
  std::vector<uint8_t> bytes = CompressedFile(4);
  ASSERT_FALSE(bytes.empty());
  Elf64_Shdr* debugdata = FindSection(bytes, ".gnu_debugdata");
  ASSERT_NE(debugdata, nullptr);
  ASSERT_GT(debugdata->sh_size, 0u);
  for (uint64_t i = 0; i < debugdata->sh_size; i++) bytes[debugdata->sh_offset + i] = static_cast<uint8_t>(0xa5 ^ i);
  Result<SymfileInfo> r = Parse(bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().rfind(".gnu_debugdata", 0), 0u) << r.error();
}

TEST(SymfileReader, ShortDebugdataIsAnError) {
  std::vector<uint8_t> bytes = CompressedFile(4);
  Elf64_Shdr* debugdata = FindSection(bytes, ".gnu_debugdata");
  ASSERT_NE(debugdata, nullptr);
  debugdata->sh_size = 3;
  Result<SymfileInfo> r = Parse(bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().rfind(".gnu_debugdata", 0), 0u) << r.error();
}

TEST(SymfileReader, DecompressedSizeLimit) {
  std::vector<uint8_t> bytes = CompressedFile(64);
  Result<SymfileInfo> whole = Parse(bytes);
  ASSERT_TRUE(whole.ok()) << whole.error();
  SymfileLimits limits;
  limits.max_decompressed = whole->inner_size - 1;
  Result<SymfileInfo> r = Parse(bytes, limits);
  ASSERT_FALSE(r.ok());
  // Refused from the xz index, before anything is allocated or decoded.
  EXPECT_NE(r.error().find("beyond the limit"), std::string::npos) << r.error();
  EXPECT_EQ(r.error().rfind(".gnu_debugdata", 0), 0u) << r.error();
  limits.max_decompressed = whole->inner_size;
  EXPECT_TRUE(Parse(bytes, limits).ok());
}

TEST(SymfileReader, MaxFunctionsLimit) {
  std::vector<uint8_t> bytes = PackedFile();
  Result<SymfileInfo> r = Parse(bytes, SymfileLimits{.max_functions = 2});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "more functions than the limit");
  Result<SymfileInfo> exact = Parse(bytes, SymfileLimits{.max_functions = 3});
  ASSERT_TRUE(exact.ok()) << exact.error();
  EXPECT_EQ(exact->functions.size(), 3u);

  // The limit covers the inner file of a compressed one too.
  Result<SymfileInfo> compressed = Parse(CompressedFile(64), SymfileLimits{.max_functions = 63});
  ASSERT_FALSE(compressed.ok());
  EXPECT_NE(compressed.error().find("more functions than the limit"), std::string::npos) << compressed.error();
}

TEST(SymfileReader, LookupLineWithoutLines) {
  SymfileInfo info;
  EXPECT_EQ(LookupLine(info, kBase).line, 0u);
  info.lines = {{kBase, 7, 3}};  // a file index out of range
  info.files = {"a.lua"};
  SourceLocation loc = LookupLine(info, kBase);
  EXPECT_EQ(loc.line, 0u);
  EXPECT_EQ(loc.file, "");
  info.lines[0].file = 0;
  loc = LookupLine(info, kBase + 5);
  EXPECT_EQ(loc.line, 7u);
  EXPECT_EQ(loc.file, "a.lua");
}

}  // namespace
}  // namespace jitscope
