#include "debuginfo/elf_symbol_lookup.h"

#include <elf.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "xz_compress.h"

namespace jitscope {
namespace {

class ScopedFd {
 public:
  explicit ScopedFd(int fd) : fd_(fd) {}
  ~ScopedFd() {
    if (fd_ >= 0) close(fd_);
  }
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

class ScopedElf {
 public:
  explicit ScopedElf(Elf* elf) : elf_(elf) {}
  ~ScopedElf() {
    if (elf_ != nullptr) elf_end(elf_);
  }
  ScopedElf(const ScopedElf&) = delete;
  ScopedElf& operator=(const ScopedElf&) = delete;
  Elf* get() const { return elf_; }

 private:
  Elf* elf_;
};

// MiniDebugInfo of a large library decompresses to a few MiB.
constexpr uint64_t kMaxDebugdataSize = 256ull << 20;

bool InitLibelf() {
  static const bool ok = elf_version(EV_CURRENT) != EV_NONE;
  return ok;
}

bool FindInSymbolTable(Elf* elf, Elf_Scn* section, const GElf_Shdr& header, std::string_view symbol,
                       ElfSymbolLookup* out) {
  Elf_Data* data = elf_getdata(section, nullptr);
  if (data == nullptr || header.sh_entsize == 0) return false;
  size_t count = header.sh_size / header.sh_entsize;
  for (size_t i = 0; i < count; i++) {
    GElf_Sym sym;
    if (gelf_getsym(data, static_cast<int>(i), &sym) == nullptr) break;
    if (sym.st_shndx == SHN_UNDEF || sym.st_name == 0) continue;
    const char* name = elf_strptr(elf, header.sh_link, sym.st_name);
    if (name == nullptr || symbol != name) continue;
    out->found = true;
    out->value = sym.st_value;
    out->size = sym.st_size;
    return true;
  }
  return false;
}

}  // namespace

Result<ElfSymbolLookup> LookupElfSymbol(const std::string& path, std::string_view symbol) {
  if (!InitLibelf()) return Error{std::string("libelf init failed: ") + elf_errmsg(-1)};
  ScopedFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return Error{"cannot open " + path + ": " + std::strerror(errno)};

  ElfSymbolLookup result;
  unsigned char ident[EI_NIDENT];
  // Cheap rejection of non-ELF mappings before libelf maps the file.
  if (pread(fd.get(), ident, sizeof(ident), 0) != static_cast<ssize_t>(sizeof(ident)) ||
      std::memcmp(ident, ELFMAG, SELFMAG) != 0) {
    return result;
  }
  ScopedElf elf(elf_begin(fd.get(), ELF_C_READ_MMAP, nullptr));
  if (elf.get() == nullptr || elf_kind(elf.get()) != ELF_K_ELF) {
    return Error{path + ": not a readable ELF file: " + elf_errmsg(-1)};
  }
  GElf_Ehdr ehdr;
  if (gelf_getehdr(elf.get(), &ehdr) == nullptr) return Error{path + ": bad ELF header: " + elf_errmsg(-1)};
  result.position_independent = ehdr.e_type == ET_DYN;

  size_t phnum = 0;
  if (elf_getphdrnum(elf.get(), &phnum) != 0) return Error{path + ": bad program headers: " + elf_errmsg(-1)};
  bool have_load = false;
  for (size_t i = 0; i < phnum; i++) {
    GElf_Phdr phdr;
    if (gelf_getphdr(elf.get(), static_cast<int>(i), &phdr) == nullptr || phdr.p_type != PT_LOAD) continue;
    if (!have_load || phdr.p_vaddr < result.first_load_vaddr) {
      result.first_load_vaddr = phdr.p_vaddr;
      result.first_load_offset = phdr.p_offset;
      have_load = true;
    }
  }

  // .dynsym first: it survives stripping and is what a running process
  // exports; .symtab catches programs linked without -rdynamic.
  for (Elf64_Word wanted : {SHT_DYNSYM, SHT_SYMTAB}) {
    Elf_Scn* section = nullptr;
    while ((section = elf_nextscn(elf.get(), section)) != nullptr) {
      GElf_Shdr header;
      if (gelf_getshdr(section, &header) == nullptr || header.sh_type != wanted) continue;
      if (FindInSymbolTable(elf.get(), section, header, symbol, &result)) {
        result.from_dynsym = wanted == SHT_DYNSYM;
        return result;
      }
    }
  }
  // Stripped binaries with MiniDebugInfo (Fedora, Android) keep their full
  // .symtab xz-compressed in .gnu_debugdata.
  size_t shstrndx = 0;
  if (elf_getshdrstrndx(elf.get(), &shstrndx) != 0) return result;
  Elf_Scn* section = nullptr;
  while ((section = elf_nextscn(elf.get(), section)) != nullptr) {
    GElf_Shdr header;
    if (gelf_getshdr(section, &header) == nullptr || header.sh_type == SHT_NOBITS) continue;
    const char* name = elf_strptr(elf.get(), shstrndx, header.sh_name);
    if (name == nullptr || std::strcmp(name, ".gnu_debugdata") != 0) continue;
    Elf_Data* data = elf_rawdata(section, nullptr);
    if (data == nullptr || data->d_buf == nullptr) break;
    std::vector<uint8_t> inner;
    std::string error;
    if (!XzDecompress(static_cast<const uint8_t*>(data->d_buf), data->d_size, &inner, &error, kMaxDebugdataSize))
      return Error{path + ": .gnu_debugdata: " + error};
    ScopedElf inner_elf(elf_memory(reinterpret_cast<char*>(inner.data()), inner.size()));
    if (inner_elf.get() == nullptr || elf_kind(inner_elf.get()) != ELF_K_ELF) break;
    Elf_Scn* s = nullptr;
    while ((s = elf_nextscn(inner_elf.get(), s)) != nullptr) {
      GElf_Shdr h;
      if (gelf_getshdr(s, &h) == nullptr || h.sh_type != SHT_SYMTAB) continue;
      if (FindInSymbolTable(inner_elf.get(), s, h, symbol, &result)) return result;
    }
    break;
  }
  return result;
}

}  // namespace jitscope
