// libFuzzer: the symbol-file reader (libelf, our section and symbol checks,
// .gnu_debugdata through liblzma, DWARF lines through libdw). Structure-aware:
// the input's first byte picks a valid file made by our own writers (single,
// packed, compressed, full-mode DWARF) or the raw input itself; the rest is a
// list of (offset, xor) patches and a final truncation, so mutations start
// from deep inside real files instead of from nothing.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "debuginfo/elf_writer.h"
#include "debuginfo/symfile.h"

namespace {

jitscope::CodeInfo MakeCode(uint64_t address, int i) {
  jitscope::CodeInfo c;
  c.address = address;
  c.size = 96;
  c.name = "f" + std::to_string(i) + "@fuzz.lua:" + std::to_string(i + 1);
  c.source = "fuzz.lua";
  c.first_line = static_cast<uint32_t>(i + 1);
  jitscope::FrameRow entry;
  c.frame.rows.push_back(entry);
  jitscope::FrameRow pushed = entry;
  pushed.code_offset = 1;
  pushed.cfa_offset = 16;
  pushed.saved_offset[jitscope::kDwRbp] = -16;
  c.frame.rows.push_back(pushed);
  jitscope::FrameRow framed = pushed;
  framed.code_offset = 4;
  framed.cfa_reg = jitscope::kDwRbp;
  c.frame.rows.push_back(framed);
  c.lines = {{0, static_cast<uint32_t>(i + 1), 0}, {8, static_cast<uint32_t>(i + 2), 1}};
  return c;
}

std::vector<std::vector<uint8_t>> Bases() {
  std::vector<jitscope::CodeInfo> codes;
  for (int i = 0; i < 8; i++) codes.push_back(MakeCode(0x7f0000000000ull + 128 * i, i));
  std::vector<const jitscope::CodeInfo*> one = {&codes[0]}, all;
  for (const auto& c : codes) all.push_back(&c);
  jitscope::ElfWriterOptions mini, full;
  full.full = true;
  return {jitscope::WriteMiniDebugInfo(one, mini), jitscope::WriteMiniDebugInfo(all, mini),
          jitscope::WriteCompressedDebugInfo(all, mini), jitscope::WriteMiniDebugInfo(one, full)};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<std::vector<uint8_t>> bases = Bases();
  if (size == 0) return 0;
  std::vector<uint8_t> file;
  size_t pick = data[0] % (bases.size() + 1);
  if (pick == bases.size()) {
    file.assign(data + 1, data + size);
  } else {
    file = bases[pick];
    size_t i = 1;
    for (; i + 3 <= size && !file.empty(); i += 3) {
      size_t offset = (static_cast<size_t>(data[i]) << 8 | data[i + 1]) % file.size();
      file[offset] ^= data[i + 2];
    }
    if (i < size && !file.empty()) file.resize(file.size() - data[i] % std::min<size_t>(file.size(), 64));
  }
  jitscope::SymfileLimits limits;
  limits.max_decompressed = 4 << 20;
  jitscope::Result<jitscope::SymfileInfo> info = jitscope::ParseSymfile(file.data(), file.size(), limits);
  if (info) {
    for (const jitscope::SymfileFunction& f : info->functions) (void)jitscope::LookupLine(*info, f.address + 1);
  }
  return 0;
}
