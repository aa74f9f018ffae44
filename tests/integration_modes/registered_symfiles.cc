#include "registered_symfiles.h"

#include <elf.h>
#include <lzma.h>

#include <cstring>
#include <sstream>

namespace jitscope::integration {
namespace {

// The inner file of a group of a few thousand functions is well below this;
// it only bounds what a corrupt stream can make the test allocate.
constexpr uint64_t kDecoderMemoryLimit = 256 << 20;

template <typename T>
bool ReadAt(const std::string& bytes, uint64_t offset, T* out) {
  if (offset > bytes.size() || bytes.size() - offset < sizeof(T)) return false;
  std::memcpy(out, bytes.data() + offset, sizeof(T));
  return true;
}

}  // namespace

std::vector<ElfSymbol> RegisteredSymfile::AllFunctions() const {
  std::vector<ElfSymbol> all = parsed.functions;
  all.insert(all.end(), inner.functions.begin(), inner.functions.end());
  return all;
}

bool RegisteredSymfile::Defines(const std::string& name) const {
  for (const ElfSymbol& symbol : AllFunctions()) {
    if (symbol.name == name) return true;
  }
  return false;
}

bool ReadRegisteredSymfiles(pid_t pid, std::vector<RegisteredSymfile>* files, std::string* error) {
  std::vector<JitEntry> entries;
  if (!ReadJitEntries(pid, &entries, error)) return false;
  files->clear();
  for (const JitEntry& entry : entries) {
    RegisteredSymfile file;
    file.entry = entry;
    if (!ReadProcessMemory(pid, entry.symfile_addr, entry.symfile_size, &file.bytes, error)) return false;
    if (!ParseSymbolFile(file.bytes, &file.parsed, error)) return false;
    for (const ElfSection& section : file.parsed.sections) {
      if (section.name == ".gnu_debugdata") file.compressed = true;
    }
    if (file.compressed) {
      if (!SectionBytes(file.bytes, ".gnu_debugdata", &file.debugdata, error)) return false;
      if (!XzDecompress(file.debugdata, &file.inner_bytes, error)) return false;
      if (!ParseSymbolFile(file.inner_bytes, &file.inner, error)) {
        *error = "the ELF file in .gnu_debugdata: " + *error;
        return false;
      }
    }
    files->push_back(std::move(file));
  }
  return true;
}

const RegisteredSymfile* DefiningFile(const std::vector<RegisteredSymfile>& files, const std::string& name) {
  for (const RegisteredSymfile& file : files) {
    if (file.Defines(name)) return &file;
  }
  return nullptr;
}

bool SectionBytes(const std::string& elf, const std::string& name, std::string* contents, std::string* error) {
  Elf64_Ehdr header;
  if (!ReadAt(elf, 0, &header) || std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0) {
    *error = "not an ELF file";
    return false;
  }
  Elf64_Shdr names;
  if (!ReadAt(elf, header.e_shoff + uint64_t{header.e_shstrndx} * sizeof(Elf64_Shdr), &names)) {
    *error = "no section name table";
    return false;
  }
  for (uint64_t i = 0; i < header.e_shnum; i++) {
    Elf64_Shdr section;
    if (!ReadAt(elf, header.e_shoff + i * sizeof(Elf64_Shdr), &section)) {
      *error = "section header " + std::to_string(i) + " lies outside the file";
      return false;
    }
    if (section.sh_name >= names.sh_size || names.sh_offset + names.sh_size > elf.size()) continue;
    const char* start = elf.data() + names.sh_offset + section.sh_name;
    if (std::string(start, strnlen(start, names.sh_size - section.sh_name)) != name) continue;
    if (section.sh_offset > elf.size() || elf.size() - section.sh_offset < section.sh_size) {
      *error = "section " + name + " lies outside the file";
      return false;
    }
    contents->assign(elf, section.sh_offset, section.sh_size);
    return true;
  }
  *error = "no section " + name;
  return false;
}

bool XzDecompress(const std::string& compressed, std::string* decompressed, std::string* error) {
  lzma_stream stream = LZMA_STREAM_INIT;
  if (lzma_stream_decoder(&stream, kDecoderMemoryLimit, 0) != LZMA_OK) {
    *error = "cannot start an xz decoder";
    return false;
  }
  decompressed->clear();
  stream.next_in = reinterpret_cast<const uint8_t*>(compressed.data());
  stream.avail_in = compressed.size();
  uint8_t chunk[16384];
  lzma_ret ret = LZMA_OK;
  while (ret == LZMA_OK) {
    stream.next_out = chunk;
    stream.avail_out = sizeof(chunk);
    ret = lzma_code(&stream, LZMA_FINISH);
    decompressed->append(reinterpret_cast<const char*>(chunk), sizeof(chunk) - stream.avail_out);
  }
  lzma_end(&stream);
  if (ret != LZMA_STREAM_END) {
    *error = "xz stream of " + std::to_string(compressed.size()) + " bytes does not decode (lzma error " +
             std::to_string(ret) + ")";
    return false;
  }
  return true;
}

std::string DescribeSymfiles(const std::vector<RegisteredSymfile>& files) {
  std::ostringstream text;
  for (const RegisteredSymfile& file : files) {
    text << "entry 0x" << std::hex << file.entry.address << std::dec << ": " << file.bytes.size() << " bytes, "
         << (file.compressed ? "compressed, " : "") << file.AllFunctions().size() << " functions:";
    for (const ElfSymbol& symbol : file.AllFunctions()) text << " " << symbol.name;
    text << "\n";
  }
  return text.str();
}

}  // namespace jitscope::integration
