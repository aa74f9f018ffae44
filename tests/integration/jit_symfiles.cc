#include "jit_symfiles.h"

#include <elf.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "harness/tool_runner.h"
#include "jitvm_under_test.h"

namespace jitscope::integration {
namespace {

uint64_t ParseHex(const std::string& text) { return std::stoull(text, nullptr, 16); }

template <typename T>
bool ReadStruct(const std::string& bytes, uint64_t offset, T* out) {
  if (offset > bytes.size() || bytes.size() - offset < sizeof(T)) return false;
  std::memcpy(out, bytes.data() + offset, sizeof(T));
  return true;
}

std::string CString(const std::string& bytes, uint64_t table_offset, uint64_t table_size, uint32_t index) {
  if (index >= table_size || table_offset + table_size > bytes.size()) return "";
  const char* start = bytes.data() + table_offset + index;
  return std::string(start, strnlen(start, table_size - index));
}

}  // namespace

bool ReadMaps(pid_t pid, std::vector<Mapping>* maps, std::string* error) {
  std::string path = "/proc/" + std::to_string(pid) + "/maps";
  std::ifstream file(path);
  if (!file) {
    *error = "cannot read " + path;
    return false;
  }
  maps->clear();
  for (std::string line; std::getline(file, line);) {
    // START-END PERMS OFFSET DEV INODE [NAME (may contain spaces)]
    std::istringstream fields(line);
    std::string range, perms, offset, dev, inode;
    fields >> range >> perms >> offset >> dev >> inode;
    size_t dash = range.find('-');
    if (dash == std::string::npos) continue;
    Mapping mapping;
    mapping.start = ParseHex(range.substr(0, dash));
    mapping.end = ParseHex(range.substr(dash + 1));
    mapping.perms = perms;
    std::string name;
    std::getline(fields >> std::ws, name);
    mapping.name = name;
    mapping.line = line;
    maps->push_back(mapping);
  }
  return true;
}

const Mapping* FindMapping(const std::vector<Mapping>& maps, uint64_t addr, uint64_t size) {
  for (const Mapping& mapping : maps) {
    if (mapping.Contains(addr, size)) return &mapping;
  }
  return nullptr;
}

bool ReadJitEntries(pid_t pid, std::vector<JitEntry>* entries, std::string* error) {
  testing::ToolResult result =
      testing::RunTool({JitscopePath(), "descriptor", std::to_string(pid), "--json"}, kToolTimeout);
  if (result.exit_code != 0) {
    *error = "jitscope descriptor failed: " + result.Describe();
    return false;
  }
  entries->clear();
  try {
    nlohmann::json json = nlohmann::json::parse(result.out);
    for (const auto& descriptor : json.at("descriptors")) {
      for (const auto& entry : descriptor.at("entries")) {
        JitEntry parsed;
        parsed.address = ParseHex(entry.at("address").get<std::string>());
        parsed.symfile_addr = ParseHex(entry.at("symfile_addr").get<std::string>());
        parsed.symfile_size = entry.at("symfile_size").get<uint64_t>();
        entries->push_back(parsed);
      }
    }
  } catch (const std::exception& e) {
    *error = std::string("cannot read jitscope's JSON: ") + e.what() + "\n" + result.out;
    return false;
  }
  return true;
}

bool ReadProcessMemory(pid_t pid, uint64_t addr, uint64_t size, std::string* bytes, std::string* error) {
  std::string path = "/proc/" + std::to_string(pid) + "/mem";
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = "cannot open " + path + ": " + std::strerror(errno);
    return false;
  }
  bytes->assign(size, '\0');
  uint64_t done = 0;
  while (done < size) {
    ssize_t got = pread(fd, bytes->data() + done, size - done, static_cast<off_t>(addr + done));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      std::ostringstream message;
      message << "cannot read " << size << " bytes at 0x" << std::hex << addr << " of process " << std::dec << pid
              << ": " << (got < 0 ? std::strerror(errno) : "end of memory");
      *error = message.str();
      close(fd);
      return false;
    }
    done += static_cast<uint64_t>(got);
  }
  close(fd);
  return true;
}

bool ParseSymbolFile(const std::string& bytes, SymbolFile* file, std::string* error) {
  Elf64_Ehdr header;
  if (!ReadStruct(bytes, 0, &header) || std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0 ||
      header.e_ident[EI_CLASS] != ELFCLASS64 || header.e_ident[EI_DATA] != ELFDATA2LSB) {
    *error = "not an ELF64 little-endian file";
    return false;
  }
  if (header.e_shentsize != sizeof(Elf64_Shdr)) {
    *error = "unexpected e_shentsize " + std::to_string(header.e_shentsize);
    return false;
  }
  std::vector<Elf64_Shdr> headers(header.e_shnum);
  for (size_t i = 0; i < headers.size(); i++) {
    if (!ReadStruct(bytes, header.e_shoff + i * sizeof(Elf64_Shdr), &headers[i])) {
      *error = "section header " + std::to_string(i) + " lies outside the file";
      return false;
    }
  }
  if (header.e_shstrndx >= headers.size()) {
    *error = "bad e_shstrndx";
    return false;
  }
  const Elf64_Shdr& names = headers[header.e_shstrndx];
  file->sections.clear();
  file->functions.clear();
  for (const Elf64_Shdr& section : headers) {
    file->sections.push_back({CString(bytes, names.sh_offset, names.sh_size, section.sh_name), section.sh_type,
                              section.sh_addr, section.sh_size});
  }
  for (const Elf64_Shdr& section : headers) {
    if (section.sh_type != SHT_SYMTAB) continue;
    if (section.sh_link >= headers.size()) {
      *error = "symbol table links to a missing string table";
      return false;
    }
    const Elf64_Shdr& strings = headers[section.sh_link];
    for (uint64_t offset = 0; offset + sizeof(Elf64_Sym) <= section.sh_size; offset += sizeof(Elf64_Sym)) {
      Elf64_Sym symbol;
      if (!ReadStruct(bytes, section.sh_offset + offset, &symbol)) {
        *error = "symbol at offset " + std::to_string(section.sh_offset + offset) + " lies outside the file";
        return false;
      }
      if (ELF64_ST_TYPE(symbol.st_info) != STT_FUNC) continue;
      file->functions.push_back(
          {CString(bytes, strings.sh_offset, strings.sh_size, symbol.st_name), symbol.st_value, symbol.st_size});
    }
  }
  return true;
}

}  // namespace jitscope::integration
