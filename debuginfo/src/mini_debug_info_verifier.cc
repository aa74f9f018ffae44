// The writers' own reader: parses what they wrote with libelf and libdw (an
// independent implementation of ELF and DWARF) and checks it against the
// CodeInfos, at every code offset. Tests call it, and so may the runtime's
// debug builds; it is kept in its own object file so that programs which never
// verify do not need libdw.
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <gelf.h>
#include <libelf.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <unordered_map>

#include "debuginfo/elf_writer.h"
#include "debuginfo/result.h"
#include "dwarf_cfi.h"
#include "dwarf_info.h"
#include "xz_compress.h"

namespace jitscope {

namespace {

bool Fail(std::string* error, std::string message) {
  *error = std::move(message);
  return false;
}

std::string DwarfError() {
  const char* message = dwarf_errmsg(-1);
  return message != nullptr ? message : "unknown libdw error";
}

std::string At(const CodeInfo& code, uint64_t offset) {
  return "'" + code.name + "' at " + HexAddress(code.address + offset) + " (+" + std::to_string(offset) + ")";
}

struct ElfDeleter {
  void operator()(Elf* elf) const { elf_end(elf); }
};
using ElfPtr = std::unique_ptr<Elf, ElfDeleter>;

// libelf may convert data in place; it gets its own copy.
ElfPtr OpenElf(std::vector<uint8_t>* copy, std::string* error) {
  elf_version(EV_CURRENT);
  Elf* elf = elf_memory(reinterpret_cast<char*>(copy->data()), copy->size());
  if (elf == nullptr || elf_kind(elf) != ELF_K_ELF) {
    if (elf != nullptr) elf_end(elf);
    *error = std::string("not an ELF file: ") + (elf_errmsg(-1) ? elf_errmsg(-1) : "?");
    return nullptr;
  }
  return ElfPtr(elf);
}

struct Section {
  Elf_Scn* scn = nullptr;
  size_t index = 0;
  GElf_Shdr shdr = {};
};

bool FindSections(Elf* elf, std::unordered_map<std::string, Section>* sections, std::string* error) {
  size_t shstrndx;
  if (elf_getshdrstrndx(elf, &shstrndx) != 0) return Fail(error, "no section name table");
  for (Elf_Scn* scn = elf_nextscn(elf, nullptr); scn != nullptr; scn = elf_nextscn(elf, scn)) {
    Section s;
    s.scn = scn;
    s.index = elf_ndxscn(scn);
    if (gelf_getshdr(scn, &s.shdr) == nullptr) return Fail(error, "bad section header");
    const char* name = elf_strptr(elf, shstrndx, s.shdr.sh_name);
    if (name == nullptr) return Fail(error, "bad section name");
    if (!sections->emplace(name, s).second) return Fail(error, std::string("duplicate section ") + name);
  }
  return true;
}

bool CheckHeader(Elf* elf, uint16_t machine, std::string* error) {
  GElf_Ehdr ehdr;
  if (gelf_getehdr(elf, &ehdr) == nullptr) return Fail(error, "no ELF header");
  if (ehdr.e_ident[EI_CLASS] != ELFCLASS64 || ehdr.e_ident[EI_DATA] != ELFDATA2LSB)
    return Fail(error, "not ELF64 little-endian");
  if (ehdr.e_type != ET_DYN) return Fail(error, "e_type " + std::to_string(ehdr.e_type) + " is not ET_DYN");
  if (ehdr.e_machine != machine) return Fail(error, "e_machine " + std::to_string(ehdr.e_machine));
  if (ehdr.e_phnum != 0) return Fail(error, "unexpected program headers");
  return true;
}

bool CheckText(const std::unordered_map<std::string, Section>& sections,
               const std::vector<const CodeInfo*>& codes, std::string* error) {
  auto it = sections.find(".text");
  if (it == sections.end()) return Fail(error, "no .text");
  const GElf_Shdr& text = it->second.shdr;
  uint64_t low = UINT64_MAX, high = 0;
  for (const CodeInfo* code : codes) {
    low = std::min(low, code->address);
    high = std::max(high, code->address + code->size);
  }
  if (text.sh_type != SHT_NOBITS || text.sh_flags != (SHF_ALLOC | SHF_EXECINSTR))
    return Fail(error, ".text is not NOBITS ALLOC|EXECINSTR");
  if (text.sh_addr != low || text.sh_size != high - low)
    return Fail(error, ".text spans " + HexAddress(text.sh_addr) + "+" + std::to_string(text.sh_size) +
                           ", codes span " + HexAddress(low) + "+" + std::to_string(high - low));
  return true;
}

bool CheckSymbols(Elf* elf, const std::unordered_map<std::string, Section>& sections,
                  const std::vector<const CodeInfo*>& codes, std::string* error) {
  auto symtab = sections.find(".symtab");
  auto strtab = sections.find(".strtab");
  auto text = sections.find(".text");
  if (symtab == sections.end() || strtab == sections.end()) return Fail(error, "no .symtab/.strtab");
  const GElf_Shdr& shdr = symtab->second.shdr;
  if (shdr.sh_type != SHT_SYMTAB || shdr.sh_entsize != sizeof(Elf64_Sym) || shdr.sh_link != strtab->second.index)
    return Fail(error, ".symtab header is wrong");
  Elf_Data* data = elf_getdata(symtab->second.scn, nullptr);
  if (data == nullptr) return Fail(error, "no .symtab data");
  size_t count = shdr.sh_size / sizeof(Elf64_Sym);
  if (shdr.sh_info > count) return Fail(error, ".symtab sh_info past the end");
  std::unordered_map<std::string, GElf_Sym> by_name;
  for (size_t i = 0; i < count; i++) {
    GElf_Sym sym;
    if (gelf_getsym(data, static_cast<int>(i), &sym) == nullptr) return Fail(error, "bad symbol");
    bool local = GELF_ST_BIND(sym.st_info) == STB_LOCAL;
    if (local != (i < shdr.sh_info))
      return Fail(error, "symbol " + std::to_string(i) + " breaks the locals-first rule (sh_info " +
                             std::to_string(shdr.sh_info) + ")");
    if (i == 0) continue;
    const char* name = elf_strptr(elf, strtab->second.index, sym.st_name);
    if (name == nullptr) return Fail(error, "bad symbol name");
    by_name[name] = sym;
  }
  if (by_name.size() != codes.size())
    return Fail(error, std::to_string(by_name.size()) + " symbols for " + std::to_string(codes.size()) + " codes");
  for (const CodeInfo* code : codes) {
    auto it = by_name.find(code->name);
    if (it == by_name.end()) return Fail(error, "no symbol '" + code->name + "'");
    const GElf_Sym& sym = it->second;
    if (GELF_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_shndx != text->second.index ||
        sym.st_value != code->address || sym.st_size != code->size)
      return Fail(error, "symbol '" + code->name + "' is " + HexAddress(sym.st_value) + "+" +
                             std::to_string(sym.st_size) + " type " + std::to_string(GELF_ST_TYPE(sym.st_info)) +
                             " section " + std::to_string(sym.st_shndx));
  }
  return true;
}

// The CFA as register + offset, from libdw's expression.
bool DecodeCfa(const Dwarf_Op* ops, size_t nops, int* reg, int64_t* offset) {
  if (nops != 1) return false;
  if (ops[0].atom == DW_OP_bregx) {
    *reg = static_cast<int>(ops[0].number);
    *offset = static_cast<int64_t>(ops[0].number2);
    return true;
  }
  if (ops[0].atom >= DW_OP_breg0 && ops[0].atom <= DW_OP_breg31) {
    *reg = ops[0].atom - DW_OP_breg0;
    *offset = static_cast<int64_t>(ops[0].number);
    return true;
  }
  return false;
}

// A register saved at CFA + offset, as libdw spells it.
bool DecodeSaveSlot(const Dwarf_Op* ops, size_t nops, int64_t* offset) {
  if (nops == 0 || ops[0].atom != DW_OP_call_frame_cfa) return false;
  *offset = 0;
  int64_t pushed = 0;
  bool have_pushed = false;
  for (size_t i = 1; i < nops; i++) {
    switch (ops[i].atom) {
      case DW_OP_plus_uconst: *offset += static_cast<int64_t>(ops[i].number); break;
      case DW_OP_consts:
      case DW_OP_constu:
        pushed = static_cast<int64_t>(ops[i].number);
        have_pushed = true;
        break;
      case DW_OP_plus:
        if (!have_pushed) return false;
        *offset += pushed;
        have_pushed = false;
        break;
      default: return false;  // includes DW_OP_stack_value: a value, not a slot
    }
  }
  return !have_pushed;
}

bool CheckCfi(Dwarf_CFI* cfi, const CfiArch& arch, const CodeInfo& code, std::string* error) {
  const std::vector<FrameRow>& rows = code.frame.rows;
  size_t row = 0;
  for (uint64_t offset = 0; offset < code.size; offset++) {
    while (row + 1 < rows.size() && rows[row + 1].code_offset <= offset) row++;
    const FrameRow& expect = rows[row];
    Dwarf_Frame* raw = nullptr;
    if (dwarf_cfi_addrframe(cfi, code.address + offset, &raw) != 0)
      return Fail(error, "no CFI for " + At(code, offset) + ": " + DwarfError());
    std::unique_ptr<Dwarf_Frame, decltype(&free)> frame(raw, &free);

    Dwarf_Op* ops = nullptr;
    size_t nops = 0;
    int cfa_reg = -1;
    int64_t cfa_offset = 0;
    if (dwarf_frame_cfa(frame.get(), &ops, &nops) != 0 || !DecodeCfa(ops, nops, &cfa_reg, &cfa_offset))
      return Fail(error, "unreadable CFA rule at " + At(code, offset));
    if (cfa_reg != expect.cfa_reg || cfa_offset != expect.cfa_offset)
      return Fail(error, "CFA at " + At(code, offset) + " is r" + std::to_string(cfa_reg) + "+" +
                             std::to_string(cfa_offset) + ", expected r" + std::to_string(expect.cfa_reg) + "+" +
                             std::to_string(expect.cfa_offset));

    for (int reg = 0; reg < kDwNumRegs; reg++) {
      if (reg == arch.stack_pointer) continue;  // the CFA itself
      Dwarf_Op mem[3];
      if (dwarf_frame_register(frame.get(), reg, mem, &ops, &nops) != 0)
        return Fail(error, "no rule for r" + std::to_string(reg) + " at " + At(code, offset) + ": " + DwarfError());
      int32_t expected = EffectiveSavedOffset(arch, expect, reg);
      if (expected == 0) {
        if (nops != 0)
          return Fail(error, "r" + std::to_string(reg) + " at " + At(code, offset) +
                                 " has a save slot but the frame row says not saved");
        continue;
      }
      int64_t slot = 0;
      if (!DecodeSaveSlot(ops, nops, &slot) || slot != expected)
        return Fail(error, "r" + std::to_string(reg) + " at " + At(code, offset) + " is not at CFA" +
                               std::to_string(expected) + (nops == 0 ? " (no rule)" : " (CFA" + std::to_string(slot) + ")"));
    }
  }
  return true;
}

bool CheckAllCfi(Dwarf_CFI* cfi, uint16_t machine, const std::vector<const CodeInfo*>& codes, std::string* error) {
  const CfiArch* arch = CfiArchFor(machine);
  if (arch == nullptr) return Fail(error, "no CFI support for machine " + std::to_string(machine));
  for (const CodeInfo* code : codes)
    if (!code->frame.rows.empty() && !CheckCfi(cfi, *arch, *code, error)) return false;
  return true;
}

// The line the writer promised at `offset`.
uint32_t ExpectedLine(const CodeInfo& code, uint64_t offset) {
  uint32_t line = code.first_line;
  for (const LineEntry& entry : code.lines) {
    if (entry.code_offset > offset) break;
    line = entry.line;
  }
  return line;
}

bool CheckDebugInfo(Dwarf* dwarf, const std::vector<const CodeInfo*>& codes, std::string* error) {
  std::unordered_map<std::string, Dwarf_Die> units;
  Dwarf_Off offset = 0, next = 0;
  size_t header_size = 0;
  while (dwarf_nextcu(dwarf, offset, &next, &header_size, nullptr, nullptr, nullptr) == 0) {
    Dwarf_Die unit;
    if (dwarf_offdie(dwarf, offset + header_size, &unit) == nullptr) return Fail(error, "bad compile unit");
    const char* name = dwarf_diename(&unit);
    units[name != nullptr ? name : ""] = unit;
    offset = next;
  }
  for (const CodeInfo* code : codes) {
    if (code->source.empty()) continue;
    auto it = units.find(code->source);
    if (it == units.end()) return Fail(error, "no compile unit named '" + code->source + "'");
    Dwarf_Die unit = it->second;

    bool found = false;
    Dwarf_Die die;
    if (dwarf_child(&unit, &die) == 0) {
      do {
        Dwarf_Addr low = 0, high = 0;
        if (dwarf_tag(&die) != DW_TAG_subprogram || dwarf_lowpc(&die, &low) != 0 || low != code->address) continue;
        found = true;
        int decl_line = 0;
        const char* name = dwarf_diename(&die);
        if (dwarf_highpc(&die, &high) != 0 || high != code->address + code->size ||
            name == nullptr || SubprogramName(code->name) != name || dwarf_decl_line(&die, &decl_line) != 0 ||
            static_cast<uint32_t>(decl_line) != code->first_line)
          return Fail(error, "subprogram of '" + code->name + "' is wrong");
      } while (dwarf_siblingof(&die, &die) == 0);
    }
    if (!found) return Fail(error, "no subprogram for '" + code->name + "'");

    for (uint64_t at = 0; at < code->size; at++) {
      Dwarf_Line* line = dwarf_getsrc_die(&unit, code->address + at);
      int number = -1;
      if (line == nullptr || dwarf_lineno(line, &number) != 0)
        return Fail(error, "no line row for " + At(*code, at) + ": " + DwarfError());
      if (static_cast<uint32_t>(number) != ExpectedLine(*code, at))
        return Fail(error, "line at " + At(*code, at) + " is " + std::to_string(number) + ", expected " +
                               std::to_string(ExpectedLine(*code, at)));
      const char* file = dwarf_linesrc(line, nullptr, nullptr);
      if (file == nullptr || std::string(file).find(code->source) == std::string::npos)
        return Fail(error, "line row at " + At(*code, at) + " names file " + (file ? file : "(none)"));
    }
  }
  return true;
}

}  // namespace

bool VerifyMiniDebugInfo(const std::vector<uint8_t>& bytes, const std::vector<const CodeInfo*>& codes,
                         std::string* error) {
  if (codes.empty()) return Fail(error, "no codes to verify against");
  std::vector<uint8_t> copy(bytes);
  ElfPtr elf = OpenElf(&copy, error);
  if (!elf) return false;
  GElf_Ehdr ehdr;
  if (gelf_getehdr(elf.get(), &ehdr) == nullptr) return Fail(error, "no ELF header");
  uint16_t machine = ehdr.e_machine;
  if (!CheckHeader(elf.get(), machine, error)) return false;
  std::unordered_map<std::string, Section> sections;
  if (!FindSections(elf.get(), &sections, error)) return false;
  if (!CheckText(sections, codes, error)) return false;

  auto compressed = sections.find(".gnu_debugdata");
  if (compressed != sections.end()) {
    Elf_Data* data = elf_getdata(compressed->second.scn, nullptr);
    if (data == nullptr) return Fail(error, "no .gnu_debugdata data");
    std::vector<uint8_t> inner;
    if (!XzDecompress(static_cast<const uint8_t*>(data->d_buf), data->d_size, &inner, error)) {
      *error = ".gnu_debugdata: " + *error;
      return false;
    }
    if (!VerifyMiniDebugInfo(inner, codes, error)) {
      *error = "inner ELF of .gnu_debugdata: " + *error;
      return false;
    }
    return true;
  }

  if (!CheckSymbols(elf.get(), sections, codes, error)) return false;
  if (sections.find(".debug_frame") == sections.end()) return Fail(error, "no .debug_frame");

  Dwarf* dwarf = dwarf_begin_elf(elf.get(), DWARF_C_READ, nullptr);
  if (dwarf == nullptr) return Fail(error, "libdw rejects the file: " + DwarfError());
  std::unique_ptr<Dwarf, decltype(&dwarf_end)> dwarf_holder(dwarf, &dwarf_end);
  Dwarf_CFI* cfi = dwarf_getcfi(dwarf);
  if (cfi == nullptr) return Fail(error, "libdw finds no .debug_frame: " + DwarfError());
  if (!CheckAllCfi(cfi, machine, codes, error)) return false;
  if (sections.count(".debug_info") != 0 && !CheckDebugInfo(dwarf, codes, error)) return false;
  return true;
}

bool VerifyEhFrameWithHdr(const EhFrameImage& eh, const CodeInfo& code, uint64_t load_address,
                          std::string* error) {
  if (eh.bytes.empty()) return Fail(error, "empty unwinding data");
  if (eh.unwinding_size != eh.bytes.size() || eh.eh_frame_hdr_size >= eh.unwinding_size ||
      eh.mapped_size != eh.unwinding_size)
    return Fail(error, "inconsistent unwinding sizes");

  // The header's own fields, as perf and libgcc read them.
  const uint8_t* hdr = eh.bytes.data() + (eh.unwinding_size - eh.eh_frame_hdr_size);
  if (hdr[0] != 1) return Fail(error, ".eh_frame_hdr version " + std::to_string(hdr[0]));
  int32_t eh_frame_ptr;
  uint32_t fde_count;
  std::memcpy(&eh_frame_ptr, hdr + 4, 4);
  std::memcpy(&fde_count, hdr + 8, 4);
  if (static_cast<int64_t>(hdr - eh.bytes.data()) + 4 + eh_frame_ptr != 0)
    return Fail(error, ".eh_frame_hdr eh_frame_ptr does not point at .eh_frame");
  if (fde_count != (code.frame.rows.empty() ? 0u : 1u))
    return Fail(error, ".eh_frame_hdr counts " + std::to_string(fde_count) + " FDEs");

  CodeInfo relocated = code;
  relocated.address = load_address;
  ElfImage wrapped = WrapEhFrameInElf(code, load_address, eh);
  ElfPtr elf = OpenElf(&wrapped, error);
  if (!elf) return false;
  Dwarf_CFI* cfi = dwarf_getcfi_elf(elf.get());
  if (cfi == nullptr) return Fail(error, "libdw finds no .eh_frame: " + DwarfError());
  std::unique_ptr<Dwarf_CFI, decltype(&dwarf_cfi_end)> cfi_holder(cfi, &dwarf_cfi_end);
  GElf_Ehdr ehdr;
  if (gelf_getehdr(elf.get(), &ehdr) == nullptr) return Fail(error, "no ELF header");
  return CheckAllCfi(cfi, ehdr.e_machine, {&relocated}, error);
}

}  // namespace jitscope
