#include "debuginfo/symfile.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <gelf.h>
#include <libelf.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>

#include "debuginfo/code_event.h"
#include "debuginfo/elf_writer.h"
#include "xz_compress.h"

namespace jitscope {
namespace {

struct ElfCloser {
  void operator()(Elf* elf) const { elf_end(elf); }
};
using ElfPtr = std::unique_ptr<Elf, ElfCloser>;

std::string ElfError() {
  const char* message = elf_errmsg(-1);
  return message != nullptr ? message : "unknown libelf error";
}

struct Section {
  GElf_Shdr header;
  Elf_Scn* scn;
  std::string name;
};

// One parse of one ELF image (the outer file, or the inner one of a
// compressed file). Appends to `info`.
class Parser {
 public:
  Parser(const uint8_t* data, size_t size, const SymfileLimits& limits, SymfileInfo* info)
      : data_(data), size_(size), limits_(limits), info_(info) {}

  Result<bool> Run(int depth) {
    if (size_ < EI_NIDENT || memcmp(data_, ELFMAG, SELFMAG) != 0) return Error{"not an ELF file"};
    if (data_[EI_CLASS] != ELFCLASS64) return Error{"not a 64-bit ELF file"};
    // libelf wants a mutable pointer but does not write through it in read mode.
    ElfPtr elf(elf_memory(const_cast<char*>(reinterpret_cast<const char*>(data_)), size_));
    if (!elf || elf_kind(elf.get()) != ELF_K_ELF) return Error{"libelf rejects the file: " + ElfError()};
    GElf_Ehdr ehdr;
    if (gelf_getehdr(elf.get(), &ehdr) == nullptr) return Error{"bad ELF header: " + ElfError()};
    if (depth == 0) {
      info_->machine = ehdr.e_machine;
      info_->elf_type = ehdr.e_type;
      size_t phnum = 0;
      if (elf_getphdrnum(elf.get(), &phnum) == 0) {
        for (size_t i = 0; i < phnum && i < 256; i++) {
          GElf_Phdr ph;
          if (gelf_getphdr(elf.get(), static_cast<int>(i), &ph) == nullptr || ph.p_type != PT_LOAD) continue;
          info_->segments.push_back(SymfileSegment{ph.p_vaddr, ph.p_offset, ph.p_filesz, (ph.p_flags & PF_X) != 0});
        }
      }
    }
    // libelf tolerates a section header table beyond the end of an image (it
    // just finds no sections); a truncated file must be an error instead.
    size_t shnum = 0;
    if (elf_getshdrnum(elf.get(), &shnum) != 0) return Error{"bad section count: " + ElfError()};
    // e_shnum == 0 with a table means extended numbering (the count is in
    // section 0, which libelf read for elf_getshdrnum).
    uint64_t claimed = ehdr.e_shnum != 0 ? ehdr.e_shnum : shnum;
    if (ehdr.e_shoff != 0 || claimed != 0) {
      if (claimed == 0 || ehdr.e_shentsize != sizeof(Elf64_Shdr) || ehdr.e_shoff > size_ ||
          claimed > (size_ - ehdr.e_shoff) / sizeof(Elf64_Shdr) || shnum != claimed)
        return Error{"the section header table lies outside the file"};
    }
    size_t shstrndx = 0;
    if (elf_getshdrstrndx(elf.get(), &shstrndx) != 0) return Error{"no section name table: " + ElfError()};
    std::vector<Section> sections;
    sections.push_back(Section{});  // index 0
    for (Elf_Scn* scn = elf_nextscn(elf.get(), nullptr); scn != nullptr; scn = elf_nextscn(elf.get(), scn)) {
      Section s;
      s.scn = scn;
      if (gelf_getshdr(scn, &s.header) == nullptr) return Error{"bad section header: " + ElfError()};
      const char* name = elf_strptr(elf.get(), shstrndx, s.header.sh_name);
      s.name = name != nullptr ? name : "";
      if (s.header.sh_type != SHT_NOBITS && (s.header.sh_offset > size_ || s.header.sh_size > size_ - s.header.sh_offset))
        return Error{"section " + s.name + " lies outside the file"};
      sections.push_back(std::move(s));
    }
    bool relocatable = ehdr.e_type == ET_REL;
    if (relocatable && depth == 0) info_->kind = SymfileKind::kRelocatable;
    const Section* symtab = nullptr;
    const Section* dynsym = nullptr;
    const Section* debugdata = nullptr;
    const Section* tiers = nullptr;
    bool has_lines = false;
    for (const Section& s : sections) {
      if (s.scn == nullptr) continue;
      if (s.header.sh_type == SHT_SYMTAB) symtab = &s;
      if (s.header.sh_type == SHT_DYNSYM) dynsym = &s;
      if (s.name == ".gnu_debugdata") debugdata = &s;
      if (s.name == kTierSectionName && s.header.sh_type == SHT_PROGBITS) tiers = &s;
      if (s.name == ".debug_frame" || s.name == ".eh_frame") info_->has_cfi = true;
      if (s.name == ".debug_line") has_lines = true;
      if (s.name == ".text" && depth == 0 && !relocatable) {
        info_->text_address = s.header.sh_addr;
        info_->text_size = s.header.sh_size;
      }
    }
    if (const Section* table = symtab ? symtab : dynsym) {
      std::vector<uint8_t> tier_bytes;
      if (tiers != nullptr && table == symtab) {
        Elf_Data* d = elf_rawdata(tiers->scn, nullptr);
        if (d != nullptr && d->d_buf != nullptr)
          tier_bytes.assign(static_cast<const uint8_t*>(d->d_buf), static_cast<const uint8_t*>(d->d_buf) + d->d_size);
      }
      Result<bool> read = ReadSymbols(elf.get(), *table, sections, relocatable, tier_bytes);
      if (!read) return read;
    }
    if (debugdata != nullptr) {
      if (depth > 0) return Error{".gnu_debugdata inside .gnu_debugdata"};
      Elf_Data* d = elf_rawdata(debugdata->scn, nullptr);
      if (d == nullptr || d->d_buf == nullptr) return Error{".gnu_debugdata is unreadable"};
      std::vector<uint8_t> inner;
      std::string error;
      if (!XzDecompress(static_cast<const uint8_t*>(d->d_buf), d->d_size, &inner, &error, limits_.max_decompressed))
        return Error{".gnu_debugdata: " + error};
      if (inner.size() > limits_.max_decompressed) return Error{".gnu_debugdata decompresses beyond the limit"};
      info_->kind = SymfileKind::kCompressed;
      info_->inner_size = inner.size();
      Parser nested(inner.data(), inner.size(), limits_, info_);
      Result<bool> r = nested.Run(depth + 1);
      if (!r) return Error{"inner ELF of .gnu_debugdata: " + r.error()};
    }
    if (has_lines && !relocatable && limits_.read_lines) ReadDwarf(elf.get());
    return true;
  }

 private:
  Result<bool> ReadSymbols(Elf* elf, const Section& table, const std::vector<Section>& sections, bool relocatable,
                           const std::vector<uint8_t>& tiers) {
    if (table.header.sh_entsize != sizeof(Elf64_Sym)) return Error{"symbol table has a bad entry size"};
    Elf_Data* d = elf_getdata(table.scn, nullptr);
    if (d == nullptr) return Error{"symbol table is unreadable: " + ElfError()};
    size_t count = d->d_size / sizeof(Elf64_Sym);
    for (size_t i = 0; i < count; i++) {
      GElf_Sym sym;
      if (gelf_getsym(d, static_cast<int>(i), &sym) == nullptr) return Error{"bad symbol #" + std::to_string(i)};
      int type = GELF_ST_TYPE(sym.st_info);
      if (type != STT_FUNC) continue;
      if (sym.st_shndx == SHN_UNDEF) continue;
      uint64_t address = sym.st_value;
      if (relocatable) {
        // MCJIT patches sh_addr to where each section was loaded; symbols are
        // section-relative.
        if (sym.st_shndx >= sections.size() || sym.st_shndx == SHN_ABS) continue;
        address += sections[sym.st_shndx].header.sh_addr;
      }
      const char* name = elf_strptr(elf, table.header.sh_link, sym.st_name);
      if (info_->functions.size() >= limits_.max_functions) return Error{"more functions than the limit"};
      SymfileFunction f{address, sym.st_size, name ? name : "", "", 0, -1};
      if (i >= 1 && i - 1 < tiers.size() && tiers[i - 1] <= static_cast<uint8_t>(CodeTier::kStub)) f.tier = tiers[i - 1];
      info_->functions.push_back(std::move(f));
    }
    return true;
  }

  // Full mode: the pc -> line table and each subprogram's declaration.
  // libdw errors leave the lines out; symbols are what matters.
  void ReadDwarf(Elf* elf) {
    Dwarf* dwarf = dwarf_begin_elf(elf, DWARF_C_READ, nullptr);
    if (dwarf == nullptr) return;
    std::unique_ptr<Dwarf, decltype(&dwarf_end)> holder(dwarf, &dwarf_end);
    std::map<std::string, uint32_t> file_index;
    auto file_id = [&](const char* name) -> uint32_t {
      std::string n = name ? name : "";
      auto [it, inserted] = file_index.emplace(n, static_cast<uint32_t>(info_->files.size()));
      if (inserted) info_->files.push_back(n);
      return it->second;
    };
    Dwarf_Off offset = 0, next = 0;
    size_t header_size = 0;
    int cus = 0;
    while (dwarf_nextcu(dwarf, offset, &next, &header_size, nullptr, nullptr, nullptr) == 0 && cus++ < 4096) {
      Dwarf_Die cu;
      if (dwarf_offdie(dwarf, offset + header_size, &cu) == nullptr) break;
      offset = next;
      Dwarf_Lines* lines = nullptr;
      size_t n = 0;
      if (dwarf_getsrclines(&cu, &lines, &n) == 0) {
        for (size_t i = 0; i < n && info_->lines.size() < limits_.max_lines; i++) {
          Dwarf_Line* line = dwarf_onesrcline(lines, i);
          Dwarf_Addr addr = 0;
          int lineno = 0;
          bool end = false;
          if (line == nullptr || dwarf_lineaddr(line, &addr) != 0 || dwarf_lineno(line, &lineno) != 0) continue;
          dwarf_lineendsequence(line, &end);
          const char* src = dwarf_linesrc(line, nullptr, nullptr);
          info_->lines.push_back(SymfileLine{addr, end ? 0u : static_cast<uint32_t>(lineno), file_id(src)});
        }
      }
      Dwarf_Die child;
      if (dwarf_child(&cu, &child) != 0) continue;
      int guard = 0;
      do {
        if (dwarf_tag(&child) != DW_TAG_subprogram) continue;
        Dwarf_Addr low = 0;
        if (dwarf_lowpc(&child, &low) != 0) continue;
        int decl_line = 0;
        dwarf_decl_line(&child, &decl_line);
        const char* decl_file = dwarf_decl_file(&child);
        for (SymfileFunction& f : info_->functions) {
          if (f.address != low) continue;
          f.file = decl_file ? decl_file : "";
          f.line = static_cast<uint32_t>(std::max(decl_line, 0));
        }
      } while (dwarf_siblingof(&child, &child) == 0 && ++guard < (1 << 20));
    }
  }

  const uint8_t* data_;
  size_t size_;
  const SymfileLimits& limits_;
  SymfileInfo* info_;
};

}  // namespace

const char* SymfileKindName(SymfileKind kind) {
  switch (kind) {
    case SymfileKind::kSingle: return "unpacked";
    case SymfileKind::kPacked: return "packed";
    case SymfileKind::kCompressed: return "compressed";
    case SymfileKind::kRelocatable: return "object";
  }
  return "?";
}

Result<SymfileInfo> ParseSymfile(const uint8_t* data, size_t size, const SymfileLimits& limits) {
  static const bool initialized = elf_version(EV_CURRENT) != EV_NONE;
  if (!initialized) return Error{"libelf is too old"};
  SymfileInfo info;
  Parser parser(data, size, limits, &info);
  Result<bool> r = parser.Run(0);
  if (!r) return std::move(r).take_error();
  std::sort(info.functions.begin(), info.functions.end(),
            [](const SymfileFunction& a, const SymfileFunction& b) { return a.address < b.address; });
  // At one address, an end_sequence row (line 0) of the unit before goes
  // first: the row that starts the next function must win LookupLine.
  std::stable_sort(info.lines.begin(), info.lines.end(), [](const SymfileLine& a, const SymfileLine& b) {
    if (a.address != b.address) return a.address < b.address;
    return a.line == 0 && b.line != 0;
  });
  if (info.kind == SymfileKind::kSingle && info.functions.size() > 1) info.kind = SymfileKind::kPacked;
  if (info.text_size == 0 && !info.functions.empty()) {
    info.text_address = info.functions.front().address;
    uint64_t end = 0;
    for (const SymfileFunction& f : info.functions) end = std::max(end, f.address + f.size);
    info.text_size = end - info.text_address;
  }
  return info;
}

SourceLocation LookupLine(const SymfileInfo& info, uint64_t address) {
  auto it = std::upper_bound(info.lines.begin(), info.lines.end(), address,
                             [](uint64_t a, const SymfileLine& l) { return a < l.address; });
  if (it == info.lines.begin()) return {};
  --it;
  if (it->line == 0 || it->file >= info.files.size()) return {};
  return SourceLocation{info.files[it->file], it->line};
}

}  // namespace jitscope
