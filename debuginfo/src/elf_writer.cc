// The ELF container of mini debug info, its compressed form and perf's
// .eh_frame + .eh_frame_hdr. See elf_writer.h for why this is hand-written.
#include "debuginfo/elf_writer.h"

#include <elf.h>
#include <unistd.h>

#include <algorithm>
#include <iterator>
#include <cstddef>
#include <cstring>
#include <stdexcept>

#include "byte_writer.h"
#include "debuginfo/result.h"
#include "dwarf_cfi.h"
#include "dwarf_info.h"
#include "xz_compress.h"

namespace jitscope {

namespace {

// Every section this file may hold; the names are written to .shstrtab once.
constexpr size_t kMaxSections = 12;
// Section alignments: .text as the code cache aligns functions; 8 for the
// tables of 8-byte fields.
constexpr uint64_t kTextAlignment = 16;
constexpr uint64_t kTableAlignment = 8;
// Bytes a code adds to a mini file besides its name: a symbol and a typical
// FDE (header plus a prologue/epilogue program); only sizes the reservation.
constexpr size_t kEstimatedBytesPerCode = sizeof(Elf64_Sym) + 96;
constexpr size_t kEstimatedFixedBytes = 512;

// The ELF header of every file written here (section headers only).
Elf64_Ehdr ElfHeader(uint16_t machine, uint64_t shoff, uint16_t shnum, uint16_t shstrndx) {
  Elf64_Ehdr ehdr = {};
  std::memcpy(ehdr.e_ident, ELFMAG, SELFMAG);
  ehdr.e_ident[EI_CLASS] = ELFCLASS64;
  ehdr.e_ident[EI_DATA] = ELFDATA2LSB;
  ehdr.e_ident[EI_VERSION] = EV_CURRENT;
  ehdr.e_ident[EI_OSABI] = ELFOSABI_NONE;
  ehdr.e_type = ET_DYN;
  ehdr.e_machine = machine;
  ehdr.e_version = EV_CURRENT;
  ehdr.e_shoff = shoff;
  ehdr.e_ehsize = sizeof(Elf64_Ehdr);
  ehdr.e_phentsize = sizeof(Elf64_Phdr);
  ehdr.e_shentsize = sizeof(Elf64_Shdr);
  ehdr.e_shnum = shnum;
  ehdr.e_shstrndx = shstrndx;
  return ehdr;
}

// Builds the file in one vector: header first, section contents appended as
// they are produced, then .shstrtab and the section header table.
class ElfBuilder {
 public:
  ElfBuilder(ElfImage* out, uint16_t machine, size_t reserve) : out_(out), w_(out), machine_(machine) {
    out_->clear();
    out_->reserve(reserve);
    out_->resize(sizeof(Elf64_Ehdr));
    sections_[0] = Elf64_Shdr{};
    names_[0] = "";
    count_ = 1;
  }

  ByteWriter& writer() { return w_; }

  uint32_t AddNobits(const char* name, uint64_t flags, uint64_t address, uint64_t size, uint64_t align) {
    uint32_t index = New(name, SHT_NOBITS, flags, align, 0);
    sections_[index].sh_addr = address;
    sections_[index].sh_offset = out_->size();
    sections_[index].sh_size = size;
    return index;
  }

  // Contents follow until End().
  uint32_t Begin(const char* name, uint32_t type, uint64_t flags, uint64_t align, uint64_t entsize,
                 uint64_t address = 0) {
    uint32_t index = New(name, type, flags, align, entsize);
    w_.PadTo(align);
    sections_[index].sh_addr = address;
    sections_[index].sh_offset = out_->size();
    return index;
  }
  void End(uint32_t index) { sections_[index].sh_size = out_->size() - sections_[index].sh_offset; }

  uint32_t AddBytes(const char* name, uint32_t type, uint64_t align, const std::vector<uint8_t>& bytes) {
    uint32_t index = Begin(name, type, /*flags=*/0, align, /*entsize=*/0);
    w_.Raw(bytes.data(), bytes.size());
    End(index);
    return index;
  }

  void Link(uint32_t index, uint32_t link, uint32_t info) {
    sections_[index].sh_link = link;
    sections_[index].sh_info = info;
  }

  uint64_t Offset(uint32_t index) const { return sections_[index].sh_offset; }

  void Finish() {
    uint32_t shstrtab = New(".shstrtab", SHT_STRTAB, 0, 1, 0);
    sections_[shstrtab].sh_offset = out_->size();
    w_.U8(0);
    for (uint32_t i = 1; i < count_; i++) {
      sections_[i].sh_name = static_cast<uint32_t>(out_->size() - sections_[shstrtab].sh_offset);
      w_.CString(names_[i]);
    }
    End(shstrtab);

    w_.PadTo(kTableAlignment);
    uint64_t shoff = out_->size();
    w_.Raw(sections_, sizeof(Elf64_Shdr) * count_);

    Elf64_Ehdr ehdr = ElfHeader(machine_, shoff, static_cast<uint16_t>(count_), static_cast<uint16_t>(shstrtab));
    std::memcpy(out_->data(), &ehdr, sizeof(ehdr));
  }

 private:
  uint32_t New(const char* name, uint32_t type, uint64_t flags, uint64_t align, uint64_t entsize) {
    uint32_t index = count_++;
    Elf64_Shdr& s = sections_[index];
    s = Elf64_Shdr{};
    s.sh_type = type;
    s.sh_flags = flags;
    s.sh_addralign = align;
    s.sh_entsize = entsize;
    names_[index] = name;
    return index;
  }

  ElfImage* out_;
  ByteWriter w_;
  uint16_t machine_;
  Elf64_Shdr sections_[kMaxSections];
  const char* names_[kMaxSections];
  uint32_t count_ = 0;
};

bool ValidateAll(const std::vector<const CodeInfo*>& codes, const ElfWriterOptions& opts) {
  if (codes.empty()) return false;
  std::string error;
  for (const CodeInfo* code : codes)
    if (code == nullptr || !ValidateCodeInfo(*code, opts, &error)) return false;
  return true;
}

std::string WorkingDirectory() {
  char buffer[4096];
  if (getcwd(buffer, sizeof(buffer)) == nullptr) return "/";
  return buffer;
}

uint64_t AlignUp(uint64_t value, uint64_t alignment) { return (value + alignment - 1) / alignment * alignment; }

// Pointer encodings of .eh_frame_hdr.
constexpr uint8_t kEhPePcrelSdata4 = 0x1b;
constexpr uint8_t kEhPeUdata4 = 0x03;
constexpr uint8_t kEhPeDatarelSdata4 = 0x3b;
constexpr uint8_t kEhFrameHdrVersion = 1;
// perf inject --jit puts the unwind data at the next 8-byte boundary after the code.
constexpr uint64_t kPerfUnwindAlignment = 8;

}  // namespace

namespace {
// Everything ValidateCodeInfo checks but the frame rows.
bool ValidateCodeInfoButFrame(const CodeInfo& code, const ElfWriterOptions& opts, std::string* error) {
  const CfiArch* arch = CfiArchFor(opts.machine);
  if (arch == nullptr) {
    *error = "no CFI support for ELF machine " + std::to_string(opts.machine);
    return false;
  }
  if (code.name.empty()) {
    *error = "code at " + HexAddress(code.address) + " has no name";
    return false;
  }
  if (code.address + code.size < code.address) {
    *error = "code '" + code.name + "' at " + HexAddress(code.address) + ": size wraps around";
    return false;
  }
  return true;
}
}  // namespace

bool ValidateCodeInfo(const CodeInfo& code, const ElfWriterOptions& opts, std::string* error) {
  // Runs for every compiled function: messages are only built on failure.
  auto what = [&code] { return "code '" + code.name + "' at " + HexAddress(code.address); };
  if (!ValidateCodeInfoButFrame(code, opts, error)) return false;
  const CfiArch* arch = CfiArchFor(opts.machine);
  if (!ValidateFrameDescription(*arch, code.frame, code.size, error)) {
    *error = what() + ": " + *error;
    return false;
  }
  return true;
}

namespace {

// The general writer's input: a CodeInfo, its FDE program encoded here.
// Prepared codes (program encoded once, reused at every repack) go through
// WriteMiniTo, which writes the same bytes without a ByteWriter.
bool HasFde(const CodeInfo* code) { return !code->frame.rows.empty(); }
void WriteFde(ByteWriter& w, const CfiArch& arch, uint32_t cie, const CodeInfo* code) {
  WriteDebugFrameFde(w, arch, cie, code->address, code->size, code->frame);
}
size_t EstimatedFdeBytes(const CodeInfo* /*code*/) { return 0; }  // in kEstimatedBytesPerCode
std::string_view NameOf(const CodeInfo* code) { return code->name; }

template <typename Code>
std::vector<const Code*> SortedCodes(const std::vector<const Code*>& codes) {
  std::vector<const Code*> sorted(codes);
  auto by_address = [](const Code* a, const Code* b) { return a->address < b->address; };
  // Callers usually pass codes in address order already (from an ordered map).
  if (!std::is_sorted(sorted.begin(), sorted.end(), by_address)) std::sort(sorted.begin(), sorted.end(), by_address);
  return sorted;
}

template <typename Code>
void TextRangeOf(const std::vector<const Code*>& sorted, uint64_t* low, uint64_t* high) {
  *low = sorted.front()->address;
  *high = *low;
  for (const Code* code : sorted) *high = std::max(*high, code->address + code->size);
}

// `full_codes` (the same codes, as CodeInfo) adds the DWARF sections.
// Into `image`, whose capacity is reused (ElfBuilder clears it).
template <typename Code>
void WriteMiniInto(const std::vector<const Code*>& sorted, const ElfWriterOptions& opts,
                   const std::vector<const CodeInfo*>* full_codes, ElfImage* out) {
  ElfImage& image = *out;
  const CfiArch& arch = *CfiArchFor(opts.machine);
  uint64_t low, high;
  TextRangeOf(sorted, &low, &high);

  size_t reserve = kEstimatedFixedBytes;
  for (const Code* code : sorted) reserve += kEstimatedBytesPerCode + NameOf(code).size() + 1 + EstimatedFdeBytes(code);
  ElfBuilder elf(&image, opts.machine, reserve);
  ByteWriter& w = elf.writer();

  uint32_t text = elf.AddNobits(".text", SHF_ALLOC | SHF_EXECINSTR, low, high - low, kTextAlignment);

  // All symbols are global, so the locals end (sh_info) right after the null symbol.
  uint32_t symtab = elf.Begin(".symtab", SHT_SYMTAB, 0, kTableAlignment, sizeof(Elf64_Sym));
  Elf64_Sym symbol = {};
  w.Raw(&symbol, sizeof(symbol));
  uint32_t name_offset = 1;
  for (const Code* code : sorted) {
    symbol.st_name = name_offset;
    symbol.st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC);
    symbol.st_other = STV_DEFAULT;
    symbol.st_shndx = static_cast<uint16_t>(text);
    symbol.st_value = code->address;
    symbol.st_size = code->size;
    w.Raw(&symbol, sizeof(symbol));
    name_offset += static_cast<uint32_t>(NameOf(code).size() + 1);
  }
  elf.End(symtab);

  uint32_t strtab = elf.Begin(".strtab", SHT_STRTAB, 0, 1, 0);
  w.U8(0);
  for (const Code* code : sorted) w.CString(NameOf(code));
  elf.End(strtab);
  elf.Link(symtab, strtab, /*info=*/1);

  // jitscope's own: the tier of each function, one byte per .symtab entry
  // after the null symbol (CodeTier). Debuggers ignore it; packing keeps it.
  uint32_t tiers = elf.Begin(kTierSectionName, SHT_PROGBITS, 0, 1, 0);
  for (const Code* code : sorted) w.U8(static_cast<uint8_t>(code->tier));
  elf.End(tiers);

  uint32_t frame = elf.Begin(".debug_frame", SHT_PROGBITS, 0, kTableAlignment, 0);
  size_t frame_start = elf.Offset(frame);
  size_t cie = WriteDebugFrameCie(w, arch) - frame_start;
  for (const Code* code : sorted)
    if (HasFde(code)) WriteFde(w, arch, static_cast<uint32_t>(cie), code);
  elf.End(frame);

  if (full_codes != nullptr) {
    DwarfInfoSections dwarf;
    WriteDwarfInfo(*full_codes, opts.comp_dir.empty() ? WorkingDirectory() : opts.comp_dir, &dwarf);
    elf.AddBytes(".debug_abbrev", SHT_PROGBITS, 1, dwarf.abbrev);
    elf.AddBytes(".debug_info", SHT_PROGBITS, 1, dwarf.info);
    elf.AddBytes(".debug_line", SHT_PROGBITS, 1, dwarf.line);
    elf.AddBytes(".debug_str", SHT_PROGBITS, 1, dwarf.str);
  }
  elf.Finish();
}

template <typename Code>
ElfImage WriteMini(const std::vector<const Code*>& sorted, const ElfWriterOptions& opts,
                   const std::vector<const CodeInfo*>* full_codes) {
  ElfImage image;
  WriteMiniInto(sorted, opts, full_codes, &image);
  return image;
}

// Wraps an inner mini file xz-compressed into .gnu_debugdata.
ElfImage WrapCompressed(const ElfImage& inner, uint64_t low, uint64_t high, const ElfWriterOptions& opts) {
  ElfImage image;
  if (inner.empty()) return image;
  std::vector<uint8_t> xz;
  std::string error;
  if (!XzCompress(inner.data(), inner.size(), kXzBlockSize, opts.xz_preset, &xz, &error)) return image;
  ElfBuilder elf(&image, opts.machine, kEstimatedFixedBytes + xz.size());
  elf.AddNobits(".text", SHF_ALLOC | SHF_EXECINSTR, low, high - low, kTextAlignment);
  elf.AddBytes(".gnu_debugdata", SHT_PROGBITS, 1, xz);
  elf.Finish();
  return image;
}

}  // namespace

ElfImage WriteMiniDebugInfo(const std::vector<const CodeInfo*>& codes, const ElfWriterOptions& opts) {
  if (!ValidateAll(codes, opts)) return {};
  std::vector<const CodeInfo*> sorted = SortedCodes(codes);
  return WriteMini(sorted, opts, opts.full ? &sorted : nullptr);
}

ElfImage WriteCompressedDebugInfo(const std::vector<const CodeInfo*>& codes, const ElfWriterOptions& opts) {
  ElfWriterOptions inner_opts = opts;
  inner_opts.full = false;
  ElfImage inner = WriteMiniDebugInfo(codes, inner_opts);
  if (inner.empty()) return {};
  uint64_t low, high;
  TextRangeOf(SortedCodes(codes), &low, &high);
  return WrapCompressed(inner, low, high, opts);
}

namespace {

// jitvm hands every compiled function to two listeners on the compiler
// thread, one after the other: the .eh_frame one (EncodeEhFrameProgram) and
// the GDB JIT one (PrepareCode). Both need the same CFA program, and encoding
// it is ~1 us per function, the biggest part of registration; the second
// call reuses the first's result. The key is the frame rows' bytes (and the
// code size and machine), so a different function can never hit: at worst a
// row's padding bytes differ and it is encoded again.
struct ProgramMemo {
  uint16_t machine = 0;
  uint64_t size = 0;
  std::vector<FrameRow> rows;
  std::vector<uint8_t> program;
  bool valid = false;
};
thread_local ProgramMemo tls_program_memo;

bool SameRows(const std::vector<FrameRow>& a, const std::vector<FrameRow>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(FrameRow)) == 0;
}

// Whether the memo holds this code's program: its rows were validated then
// (the memo only ever holds validated rows).
bool MemoHolds(const CodeInfo& code, uint16_t machine) {
  const ProgramMemo& memo = tls_program_memo;
  return memo.valid && memo.machine == machine && memo.size == code.size && SameRows(memo.rows, code.frame.rows);
}

// The CFA program of a validated code with rows.
std::vector<uint8_t> MemoizedCfaProgram(const CodeInfo& code, uint16_t machine) {
  ProgramMemo& memo = tls_program_memo;
  if (MemoHolds(code, machine)) return memo.program;
  memo.valid = false;
  memo.program = EncodeCfaProgram(*CfiArchFor(machine), code.frame, code.size);
  memo.rows.assign(code.frame.rows.begin(), code.frame.rows.end());  // keeps its capacity across calls
  memo.machine = machine;
  memo.size = code.size;
  memo.valid = true;
  return memo.program;
}

}  // namespace

bool PrepareCode(const CodeInfo& code, const ElfWriterOptions& opts, PreparedCode* out) {
  std::string error;
  // Rows the .eh_frame listener validated (and encoded) a moment ago on this
  // thread are not walked again: validation was ~0.4 us per function, the
  // biggest single item of registration, and comparing the rows is cheaper.
  bool known = !code.frame.rows.empty() && MemoHolds(code, opts.machine);
  if (known ? !ValidateCodeInfoButFrame(code, opts, &error) : !ValidateCodeInfo(code, opts, &error)) return false;
  out->address = code.address;
  out->size = code.size;
  out->tier = code.tier;
  out->has_fde = !code.frame.rows.empty();
  if (!out->has_fde) {
    out->Set(code.name, nullptr, 0);
  } else if (known) {
    out->Set(code.name, tls_program_memo.program.data(), tls_program_memo.program.size());
  } else {
    std::vector<uint8_t> program = MemoizedCfaProgram(code, opts.machine);
    out->Set(code.name, program.data(), program.size());
  }
  return true;
}

PreparedCode& PreparedCode::operator=(const PreparedCode& other) {
  if (this == &other) return *this;
  address = other.address;
  size = other.size;
  tier = other.tier;
  has_fde = other.has_fde;
  Set(other.name(), other.cfa_program(), other.cfa_program_size());  // this != &other: no aliasing
  return *this;
}

void PreparedCode::Set(std::string_view name, const uint8_t* program, size_t program_size) {
  size_t total = name.size() + program_size;
  if (name.size() > UINT32_MAX || program_size > UINT32_MAX) throw std::length_error("PreparedCode too large");
  uint8_t* out = inline_;
  if (total > kInline) {
    heap_ = std::make_unique<uint8_t[]>(total);
    out = heap_.get();
  } else {
    heap_.reset();
  }
  if (!name.empty()) std::memcpy(out, name.data(), name.size());
  if (program_size != 0) std::memcpy(out + name.size(), program, program_size);
  name_size_ = static_cast<uint32_t>(name.size());
  program_size_ = static_cast<uint32_t>(program_size);
}

namespace {
ElfImage WritePreparedMini(const std::vector<const PreparedCode*>& sorted, uint16_t machine);
bool WriteSingleInto(const PreparedCode& code, uint16_t machine, ElfImage* out);
}  // namespace

// Prepared codes were validated by PrepareCode; only their presence is checked.
ElfImage WritePreparedMiniDebugInfo(const std::vector<const PreparedCode*>& codes, const ElfWriterOptions& opts) {
  if (codes.empty() || !CfiArchFor(opts.machine)) return {};
  for (const PreparedCode* code : codes)
    if (code == nullptr) return {};
  return WritePreparedMini(SortedCodes(codes), opts.machine);
}

bool WritePreparedMiniDebugInfoInto(const PreparedCode& code, const ElfWriterOptions& opts, ElfImage* out) {
  return WriteSingleInto(code, opts.machine, out);
}

ElfImage WritePreparedCompressedDebugInfo(const std::vector<const PreparedCode*>& codes, const ElfWriterOptions& opts) {
  if (codes.empty() || !CfiArchFor(opts.machine)) return {};
  for (const PreparedCode* code : codes)
    if (code == nullptr) return {};
  std::vector<const PreparedCode*> sorted = SortedCodes(codes);
  uint64_t low, high;
  TextRangeOf(sorted, &low, &high);
  return WrapCompressed(WritePreparedMini(sorted, opts.machine), low, high, opts);
}

namespace {

// WriteMiniInto's sections without full mode, in its order: the direct writer's.
constexpr const char* kMiniSectionNames[] = {".text", ".symtab", ".strtab", kTierSectionName, ".debug_frame",
                                               ".shstrtab"};
constexpr uint16_t kMiniSectionCount = 1 + std::size(kMiniSectionNames);  // with the null section
enum MiniSection : uint16_t { kSText = 1, kSSymtab, kSStrtab, kSTiers, kSFrame, kSShstrtab };
// length, CIE pointer, initial location, address range: WriteDebugFrameFdeWithProgram's header.
constexpr size_t kFdeHeaderBytes = 4 + 4 + 8 + 8;

// What every mini file of a machine written from prepared codes shares.
struct MiniTemplate {
  uint16_t machine = 0;
  std::vector<uint8_t> cie;       // .debug_frame's CIE, at offset 0 of the section
  std::vector<uint8_t> shstrtab;  // as ElfBuilder::Finish writes it
  uint32_t name_offsets[kMiniSectionCount] = {};
  // The ELF header and section headers with every field that does not depend
  // on the codes: a file copies them and patches the rest (a smaller function
  // than filling them field by field; it runs cold, once per compile).
  Elf64_Ehdr ehdr = {};
  Elf64_Shdr sections[kMiniSectionCount] = {};
};

Elf64_Shdr SectionHeader(uint32_t name, uint32_t type, uint64_t flags, uint64_t addr, uint64_t offset, uint64_t size,
                         uint64_t align, uint64_t entsize = 0) {
  Elf64_Shdr s = {};
  s.sh_name = name;
  s.sh_type = type;
  s.sh_flags = flags;
  s.sh_addr = addr;
  s.sh_offset = offset;
  s.sh_size = size;
  s.sh_addralign = align;
  s.sh_entsize = entsize;
  return s;
}

void BuildMiniTemplate(uint16_t machine, MiniTemplate& t);

// x86-64's is built once for the process (a function-local static: after the
// first call, one guard byte to test); other machines' per thread, on demand.
const MiniTemplate* MiniTemplateFor(uint16_t machine) {
  if (machine == kElfMachineX86_64) {
    static const MiniTemplate x86_64 = [] {
      MiniTemplate t;
      BuildMiniTemplate(kElfMachineX86_64, t);
      return t;
    }();
    return &x86_64;
  }
  if (CfiArchFor(machine) == nullptr) return nullptr;
  thread_local MiniTemplate t;
  if (t.machine != machine || t.cie.empty()) BuildMiniTemplate(machine, t);
  return &t;
}

void BuildMiniTemplate(uint16_t machine, MiniTemplate& t) {
  const CfiArch* arch = CfiArchFor(machine);
  t.cie.clear();
  ByteWriter cie(&t.cie);
  WriteDebugFrameCie(cie, *arch);
  t.shstrtab.assign(1, 0);
  for (uint16_t i = 1; i < kMiniSectionCount; i++) {
    t.name_offsets[i] = static_cast<uint32_t>(t.shstrtab.size());
    const char* name = kMiniSectionNames[i - 1];
    t.shstrtab.insert(t.shstrtab.end(), name, name + std::strlen(name) + 1);
  }
  t.ehdr = ElfHeader(machine, /*shoff=*/0, kMiniSectionCount, kSShstrtab);  // e_shoff patched per file
  const uint32_t* n = t.name_offsets;
  Elf64_Shdr* sh = t.sections;
  sh[0] = Elf64_Shdr{};
  sh[kSText] = SectionHeader(n[kSText], SHT_NOBITS, SHF_ALLOC | SHF_EXECINSTR, 0, sizeof(Elf64_Ehdr), 0,
                             kTextAlignment);
  sh[kSSymtab] = SectionHeader(n[kSSymtab], SHT_SYMTAB, 0, 0, 0, 0, kTableAlignment,
                               sizeof(Elf64_Sym));
  sh[kSSymtab].sh_link = kSStrtab;
  sh[kSSymtab].sh_info = 1;  // all symbols are global: the locals end after the null one
  sh[kSStrtab] = SectionHeader(n[kSStrtab], SHT_STRTAB, 0, 0, 0, 0, 1);
  sh[kSTiers] = SectionHeader(n[kSTiers], SHT_PROGBITS, 0, 0, 0, 0, 1);
  sh[kSFrame] = SectionHeader(n[kSFrame], SHT_PROGBITS, 0, 0, 0, 0, kTableAlignment);
  sh[kSShstrtab] = SectionHeader(n[kSShstrtab], SHT_STRTAB, 0, 0, 0, t.shstrtab.size(), 1);
  t.machine = machine;
}

// File offsets of a mini file's parts, as ElfBuilder lays them out.
struct MiniLayout {
  uint64_t symtab, strtab, strtab_size, tiers, frame, frame_size, shstrtab, shoff, total;
  uint64_t low, high;  // the .text range
};

uint64_t FdeSize(const PreparedCode& code) {
  return code.has_fde ? DebugFrameFdeSizeWithProgram(code.cfa_program_size()) : 0;
}

MiniLayout MiniLayoutOf(const PreparedCode* const* codes, size_t n, const MiniTemplate& t) {
  MiniLayout l;
  l.low = codes[0]->address;
  l.high = l.low;
  l.strtab_size = 1;
  l.frame_size = t.cie.size();
  for (size_t i = 0; i < n; i++) {
    const PreparedCode& code = *codes[i];
    l.high = std::max(l.high, code.address + code.size);
    l.strtab_size += code.name().size() + 1;
    l.frame_size += FdeSize(code);
  }
  uint64_t o = sizeof(Elf64_Ehdr);  // .text is NOBITS: its offset, no bytes
  l.symtab = AlignUp(o, kTableAlignment);
  l.strtab = l.symtab + (n + 1) * sizeof(Elf64_Sym);  // the null symbol and one per code
  l.tiers = l.strtab + l.strtab_size;
  l.frame = AlignUp(l.tiers + n, kTableAlignment);
  l.shstrtab = l.frame + l.frame_size;
  l.shoff = AlignUp(l.shstrtab + t.shstrtab.size(), kTableAlignment);
  l.total = l.shoff + kMiniSectionCount * sizeof(Elf64_Shdr);
  return l;
}

// The file WriteMiniInto writes for `codes` (sorted by address, prepared,
// without full mode), byte for byte, into out[0, l.total).
void WriteMiniTo(const PreparedCode* const* codes, size_t n, const MiniTemplate& t, const MiniLayout& l,
                 uint8_t* out) {
  std::memcpy(out, &t.ehdr, sizeof(Elf64_Ehdr));
  std::memcpy(out + offsetof(Elf64_Ehdr, e_shoff), &l.shoff, sizeof(l.shoff));
  std::memset(out + sizeof(Elf64_Ehdr), 0, l.symtab - sizeof(Elf64_Ehdr));

  uint8_t* sym = out + l.symtab;
  std::memset(sym, 0, sizeof(Elf64_Sym));  // the null symbol
  sym += sizeof(Elf64_Sym);
  uint8_t* str = out + l.strtab;
  *str++ = 0;
  uint8_t* tier = out + l.tiers;
  uint8_t* fde = out + l.frame + t.cie.size();
  std::memcpy(out + l.frame, t.cie.data(), t.cie.size());
  uint32_t name_offset = 1;
  for (size_t i = 0; i < n; i++) {
    const PreparedCode& code = *codes[i];
    std::string_view name = code.name();
    Elf64_Sym symbol = {};
    symbol.st_name = name_offset;
    symbol.st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC);
    symbol.st_other = STV_DEFAULT;
    symbol.st_shndx = kSText;
    symbol.st_value = code.address;
    symbol.st_size = code.size;
    std::memcpy(sym, &symbol, sizeof(symbol));
    sym += sizeof(symbol);
    if (!name.empty()) std::memcpy(str, name.data(), name.size());
    str[name.size()] = 0;
    str += name.size() + 1;
    name_offset += static_cast<uint32_t>(name.size() + 1);
    *tier++ = static_cast<uint8_t>(code.tier);
    if (code.has_fde) {
      uint64_t fde_size = FdeSize(code);
      size_t program = code.cfa_program_size();
      uint32_t length = static_cast<uint32_t>(fde_size - 4);
      uint32_t cie_pointer = 0;  // the CIE starts .debug_frame
      std::memcpy(fde, &length, 4);
      std::memcpy(fde + 4, &cie_pointer, 4);
      std::memcpy(fde + 8, &code.address, 8);
      std::memcpy(fde + 16, &code.size, 8);
      if (program != 0) std::memcpy(fde + kFdeHeaderBytes, code.cfa_program(), program);
      std::memset(fde + kFdeHeaderBytes + program, 0, fde_size - kFdeHeaderBytes - program);  // DW_CFA_nop
      fde += fde_size;
    }
  }
  std::memset(tier, 0, out + l.frame - tier);
  std::memcpy(out + l.shstrtab, t.shstrtab.data(), t.shstrtab.size());
  std::memset(out + l.shstrtab + t.shstrtab.size(), 0, l.shoff - (l.shstrtab + t.shstrtab.size()));

  // The section headers: the template's, then the fields of these codes.
  uint8_t* headers = out + l.shoff;
  std::memcpy(headers, t.sections, sizeof(t.sections));
  auto patch = [headers](uint16_t section, size_t field, uint64_t value) {
    std::memcpy(headers + section * sizeof(Elf64_Shdr) + field, &value, sizeof(value));
  };
  patch(kSText, offsetof(Elf64_Shdr, sh_addr), l.low);
  patch(kSText, offsetof(Elf64_Shdr, sh_size), l.high - l.low);
  patch(kSSymtab, offsetof(Elf64_Shdr, sh_offset), l.symtab);
  patch(kSSymtab, offsetof(Elf64_Shdr, sh_size), (n + 1) * sizeof(Elf64_Sym));
  patch(kSStrtab, offsetof(Elf64_Shdr, sh_offset), l.strtab);
  patch(kSStrtab, offsetof(Elf64_Shdr, sh_size), l.strtab_size);
  patch(kSTiers, offsetof(Elf64_Shdr, sh_offset), l.tiers);
  patch(kSTiers, offsetof(Elf64_Shdr, sh_size), n);
  patch(kSFrame, offsetof(Elf64_Shdr, sh_offset), l.frame);
  patch(kSFrame, offsetof(Elf64_Shdr, sh_size), l.frame_size);
  patch(kSShstrtab, offsetof(Elf64_Shdr, sh_offset), l.shstrtab);
}

// Prepared codes, sorted: the direct writer into a new image.
ElfImage WritePreparedMini(const std::vector<const PreparedCode*>& sorted, uint16_t machine) {
  const MiniTemplate* t = MiniTemplateFor(machine);
  if (t == nullptr || sorted.empty()) return {};
  MiniLayout l = MiniLayoutOf(sorted.data(), sorted.size(), *t);
  ElfImage image(l.total);
  WriteMiniTo(sorted.data(), sorted.size(), *t, l, image.data());
  return image;
}

// One template lookup and one layout per file (this runs for every compiled
// function): the size, then the bytes into *out, which keeps its capacity.
bool WriteSingleInto(const PreparedCode& code, uint16_t machine, ElfImage* out) {
  const MiniTemplate* t = MiniTemplateFor(machine);
  if (t == nullptr) {
    out->clear();
    return false;
  }
  const PreparedCode* one = &code;
  MiniLayout l = MiniLayoutOf(&one, 1, *t);
  out->resize(l.total);
  WriteMiniTo(&one, 1, *t, l, out->data());
  return true;
}

}  // namespace

size_t SingleMiniDebugInfoSize(const PreparedCode& code, uint16_t machine) {
  const MiniTemplate* t = MiniTemplateFor(machine);
  const PreparedCode* one = &code;
  return t ? MiniLayoutOf(&one, 1, *t).total : 0;
}

void WriteSingleMiniDebugInfo(const PreparedCode& code, uint16_t machine, uint8_t* out) {
  const MiniTemplate* t = MiniTemplateFor(machine);
  if (t == nullptr) return;
  const PreparedCode* one = &code;
  WriteMiniTo(&one, 1, *t, MiniLayoutOf(&one, 1, *t), out);
}

EhFrameImage WriteEhFrameWithHdr(const CodeInfo& code, uint64_t load_address, uint16_t machine) {
  return WriteEhFrameWithHdrAt(code, load_address, load_address + AlignUp(code.size, kPerfUnwindAlignment),
                               machine);
}

EhFrameImage WriteEhFrameWithHdrAt(const CodeInfo& code, uint64_t load_address, uint64_t eh_frame_address,
                                   uint16_t machine) {
  EhFrameImage eh;
  ElfWriterOptions opts;
  opts.machine = machine;
  std::string error;
  if (!ValidateCodeInfo(code, opts, &error)) return eh;
  const CfiArch& arch = *CfiArchFor(machine);
  eh.eh_frame_address = eh_frame_address;

  ByteWriter w(&eh.bytes);
  eh.bytes.reserve(kEstimatedFixedBytes);
  size_t cie = WriteEhFrameCie(w, arch);
  size_t fde = 0;
  bool has_fde = !code.frame.rows.empty();
  if (has_fde && !WriteEhFrameFde(w, arch, cie, eh_frame_address, load_address, code.size, code.frame, &fde)) {
    eh.bytes.clear();
    return eh;
  }
  w.U32(0);  // terminator: __register_frame and other walkers stop here

  // .eh_frame_hdr: pointers relative to its own start (datarel) or to the field (pcrel).
  size_t hdr = w.size();
  uint64_t hdr_address = eh_frame_address + hdr;
  w.U8(kEhFrameHdrVersion);
  w.U8(kEhPePcrelSdata4);
  w.U8(kEhPeUdata4);
  w.U8(kEhPeDatarelSdata4);
  w.S32(-static_cast<int32_t>(w.size()));  // back to byte 0: .eh_frame
  w.U32(has_fde ? 1 : 0);
  if (has_fde) {
    int64_t initial = static_cast<int64_t>(load_address - hdr_address);
    if (initial < INT32_MIN || initial > INT32_MAX) {
      eh.bytes.clear();
      return eh;
    }
    w.S32(static_cast<int32_t>(initial));
    w.S32(static_cast<int32_t>(static_cast<int64_t>(fde) - static_cast<int64_t>(hdr)));
  }
  eh.unwinding_size = eh.bytes.size();
  eh.eh_frame_hdr_size = eh.bytes.size() - hdr;
  eh.mapped_size = eh.unwinding_size;
  return eh;
}

std::vector<uint8_t> EncodeEhFrameProgram(const CodeInfo& code, uint16_t machine) {
  ElfWriterOptions opts;
  opts.machine = machine;
  std::string error;
  if (code.frame.rows.empty() || !ValidateCodeInfo(code, opts, &error)) return {};
  return MemoizedCfaProgram(code, machine);
}

namespace {
// Must match WriteEhFrameCie and WriteEhFrameFdeWithProgram: the CIE's size
// is measured once per machine (not written into a fresh vector for every
// table); an FDE is 17 bytes of header plus its program, padded.
size_t MeasureEhFrameCie(uint16_t machine) {
  std::vector<uint8_t> bytes;
  ByteWriter w(&bytes);
  WriteEhFrameCie(w, *CfiArchFor(machine));
  return bytes.size();
}
size_t EhFrameCieSize(uint16_t machine) {
  if (machine == kElfMachineX86_64) {
    static const size_t x86_64 = MeasureEhFrameCie(kElfMachineX86_64);
    return x86_64;
  }
  return MeasureEhFrameCie(machine);
}
}  // namespace

size_t EhFrameTableSize(const std::vector<const EhFrameTableEntry*>& entries, uint16_t machine) {
  if (!CfiArchFor(machine)) return 0;
  size_t n = EhFrameCieSize(machine) + 4;
  for (const EhFrameTableEntry* e : entries)
    if (!e->program.empty()) n += AlignUp(17 + e->program.size(), 8);
  return n;
}

std::vector<uint8_t> WriteEhFrameTable(const std::vector<const EhFrameTableEntry*>& entries,
                                       uint64_t eh_frame_address, uint16_t machine) {
  std::vector<uint8_t> bytes;
  const CfiArch* arch = CfiArchFor(machine);
  if (!arch) return bytes;
  ByteWriter w(&bytes);
  bytes.reserve(EhFrameTableSize(entries, machine));
  size_t cie = WriteEhFrameCie(w, *arch);
  for (const EhFrameTableEntry* e : entries) {
    if (e->program.empty()) continue;
    if (!WriteEhFrameFdeWithProgram(w, cie, eh_frame_address, e->address, e->size, e->program)) return {};
  }
  w.U32(0);  // terminator
  return bytes;
}

ElfImage WrapEhFrameInElf(const CodeInfo& code, uint64_t load_address, const EhFrameImage& eh, uint16_t machine) {
  ElfImage image;
  if (eh.bytes.empty()) return image;
  ElfBuilder elf(&image, machine, kEstimatedFixedBytes + eh.bytes.size() + code.name.size());
  ByteWriter& w = elf.writer();
  uint32_t text = elf.AddNobits(".text", SHF_ALLOC | SHF_EXECINSTR, load_address, code.size, kTextAlignment);
  uint64_t table_size = eh.unwinding_size - eh.eh_frame_hdr_size;
  uint32_t frame = elf.Begin(".eh_frame", SHT_PROGBITS, SHF_ALLOC, kTableAlignment, 0, eh.eh_frame_address);
  w.Raw(eh.bytes.data(), table_size);
  elf.End(frame);
  uint32_t hdr = elf.Begin(".eh_frame_hdr", SHT_PROGBITS, SHF_ALLOC, 4, 0, eh.eh_frame_address + table_size);
  w.Raw(eh.bytes.data() + table_size, eh.eh_frame_hdr_size);
  elf.End(hdr);

  uint32_t symtab = elf.Begin(".symtab", SHT_SYMTAB, 0, kTableAlignment, sizeof(Elf64_Sym));
  Elf64_Sym symbol = {};
  w.Raw(&symbol, sizeof(symbol));
  symbol.st_name = 1;
  symbol.st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC);
  symbol.st_shndx = static_cast<uint16_t>(text);
  symbol.st_value = load_address;
  symbol.st_size = code.size;
  w.Raw(&symbol, sizeof(symbol));
  elf.End(symtab);
  uint32_t strtab = elf.Begin(".strtab", SHT_STRTAB, 0, 1, 0);
  w.U8(0);
  w.CString(code.name);
  elf.End(strtab);
  elf.Link(symtab, strtab, /*info=*/1);
  elf.Finish();
  return image;
}

}  // namespace jitscope
