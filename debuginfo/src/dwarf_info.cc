// Full mode is written once per function and never packed, so unlike the mini
// writer it favours simplicity (four small vectors) over the last allocation.
#include "dwarf_info.h"

#include <algorithm>

#include "byte_writer.h"

namespace jitscope {

namespace {

// DWARF 4 constants used here (section 7).
constexpr uint8_t kTagCompileUnit = 0x11;
constexpr uint8_t kTagSubprogram = 0x2e;
constexpr uint8_t kChildrenYes = 1;
constexpr uint8_t kChildrenNo = 0;
constexpr uint8_t kAtName = 0x03;
constexpr uint8_t kAtStmtList = 0x10;
constexpr uint8_t kAtLowPc = 0x11;
constexpr uint8_t kAtHighPc = 0x12;
constexpr uint8_t kAtCompDir = 0x1b;
constexpr uint8_t kAtProducer = 0x25;
constexpr uint8_t kAtDeclFile = 0x3a;
constexpr uint8_t kAtDeclLine = 0x3b;
constexpr uint8_t kAtFrameBase = 0x40;
constexpr uint8_t kFormAddr = 0x01;
constexpr uint8_t kFormData8 = 0x07;  // high_pc as a length (DWARF 4)
constexpr uint8_t kFormStrp = 0x0e;
constexpr uint8_t kFormUdata = 0x0f;
constexpr uint8_t kFormSecOffset = 0x17;
constexpr uint8_t kFormExprloc = 0x18;
constexpr uint8_t kOpCallFrameCfa = 0x9c;

constexpr uint16_t kDwarfVersion = 4;
constexpr uint8_t kAddressSize = 8;

// Abbreviation codes.
constexpr uint8_t kAbbrevUnitWithLines = 1;
constexpr uint8_t kAbbrevSubprogramWithDecl = 2;
constexpr uint8_t kAbbrevUnitNoLines = 3;
constexpr uint8_t kAbbrevSubprogramNoDecl = 4;

// Line program parameters: the usual GCC choice, which suits the short
// address steps between Lua lines.
constexpr int8_t kLineBase = -5;
constexpr uint8_t kLineRange = 14;
constexpr uint8_t kOpcodeBase = 13;
constexpr uint8_t kStandardOpcodeLengths[kOpcodeBase - 1] = {0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1};
constexpr uint8_t kLnsCopy = 0x01;
constexpr uint8_t kLnsAdvancePc = 0x02;
constexpr uint8_t kLnsAdvanceLine = 0x03;
constexpr uint8_t kLneEndSequence = 0x01;
constexpr uint8_t kLneSetAddress = 0x02;

constexpr char kProducer[] = "jitscope JIT";

void Attribute(ByteWriter& w, uint8_t at, uint8_t form) {
  w.ULeb128(at);
  w.ULeb128(form);
}

void WriteAbbrevs(ByteWriter& w) {
  for (bool lines : {true, false}) {
    w.ULeb128(lines ? kAbbrevUnitWithLines : kAbbrevUnitNoLines);
    w.ULeb128(kTagCompileUnit);
    w.U8(kChildrenYes);
    Attribute(w, kAtProducer, kFormStrp);
    Attribute(w, kAtName, kFormStrp);
    Attribute(w, kAtCompDir, kFormStrp);
    if (lines) Attribute(w, kAtStmtList, kFormSecOffset);
    Attribute(w, kAtLowPc, kFormAddr);
    Attribute(w, kAtHighPc, kFormData8);
    Attribute(w, 0, 0);

    w.ULeb128(lines ? kAbbrevSubprogramWithDecl : kAbbrevSubprogramNoDecl);
    w.ULeb128(kTagSubprogram);
    w.U8(kChildrenNo);
    Attribute(w, kAtName, kFormStrp);
    Attribute(w, kAtLowPc, kFormAddr);
    Attribute(w, kAtHighPc, kFormData8);
    if (lines) {
      Attribute(w, kAtDeclFile, kFormUdata);
      Attribute(w, kAtDeclLine, kFormUdata);
    }
    Attribute(w, kAtFrameBase, kFormExprloc);
    Attribute(w, 0, 0);
  }
  w.U8(0);
}

class StringTable {
 public:
  explicit StringTable(std::vector<uint8_t>* out) : w_(out) {}
  uint32_t Add(const std::string& s) {
    uint32_t offset = static_cast<uint32_t>(w_.size());
    w_.CString(s);
    return offset;
  }

 private:
  ByteWriter w_;
};

// One row per change of line, in code order.
void WriteLineSequence(ByteWriter& w, const CodeInfo& code) {
  w.U8(0);
  w.ULeb128(1 + kAddressSize);
  w.U8(kLneSetAddress);
  w.U64(code.address);

  uint64_t address = 0;  // relative to the code
  int64_t line = 1;      // the state machine's initial line
  bool any_row = false;
  auto row = [&](uint64_t offset, int64_t new_line) {
    uint64_t address_step = offset - address;
    int64_t line_step = new_line - line;
    if (line_step < kLineBase || line_step >= kLineBase + kLineRange) {
      w.U8(kLnsAdvanceLine);
      w.SLeb128(line_step);
      line_step = 0;
    }
    uint64_t special = static_cast<uint64_t>(line_step - kLineBase) + kLineRange * address_step + kOpcodeBase;
    if (special > 255) {
      w.U8(kLnsAdvancePc);
      w.ULeb128(address_step);
      special = static_cast<uint64_t>(line_step - kLineBase) + kOpcodeBase;
    }
    w.U8(static_cast<uint8_t>(special));
    address = offset;
    line = new_line;
    any_row = true;
  };

  if (code.lines.empty() || code.lines.front().code_offset > 0) row(0, code.first_line);
  for (const LineEntry& entry : code.lines) {
    if (entry.code_offset >= code.size) break;
    if (any_row && entry.line == line) continue;
    if (any_row && entry.code_offset == address) {
      // Two entries at one address: the later one wins, as in the producer's table.
      w.U8(kLnsAdvanceLine);
      w.SLeb128(static_cast<int64_t>(entry.line) - line);
      w.U8(kLnsCopy);
      line = entry.line;
      continue;
    }
    row(entry.code_offset, entry.line);
  }
  w.U8(kLnsAdvancePc);
  w.ULeb128(code.size - address);
  w.U8(0);
  w.ULeb128(1);
  w.U8(kLneEndSequence);
}

void WriteLineProgram(ByteWriter& w, const std::string& source, const std::vector<const CodeInfo*>& codes) {
  size_t unit = w.size();
  w.U32(0);  // unit_length, patched
  w.U16(kDwarfVersion);
  size_t header_length_at = w.size();
  w.U32(0);  // header_length, patched
  w.U8(1);   // minimum_instruction_length
  w.U8(1);   // maximum_operations_per_instruction
  w.U8(1);   // default_is_stmt
  w.U8(static_cast<uint8_t>(kLineBase));
  w.U8(kLineRange);
  w.U8(kOpcodeBase);
  w.Raw(kStandardOpcodeLengths, sizeof(kStandardOpcodeLengths));
  w.U8(0);  // no include_directories: the file is relative to DW_AT_comp_dir
  w.CString(source);
  w.ULeb128(0);  // directory index
  w.ULeb128(0);  // modification time
  w.ULeb128(0);  // length
  w.U8(0);
  w.Patch32(header_length_at, static_cast<uint32_t>(w.size() - header_length_at - 4));
  for (const CodeInfo* code : codes) WriteLineSequence(w, *code);
  w.Patch32(unit, static_cast<uint32_t>(w.size() - unit - 4));
}

}  // namespace

std::string SubprogramName(const std::string& code_name) {
  size_t at = code_name.find('@');
  if (at == std::string::npos || at == 0) return code_name;
  return code_name.substr(0, at);
}

void WriteDwarfInfo(const std::vector<const CodeInfo*>& codes, const std::string& comp_dir,
                    DwarfInfoSections* out) {
  ByteWriter abbrev(&out->abbrev);
  WriteAbbrevs(abbrev);

  StringTable strings(&out->str);
  uint32_t producer = strings.Add(kProducer);
  uint32_t dir = strings.Add(comp_dir);

  // Compile units in order of each source's first (lowest) code.
  std::vector<std::string> sources;
  for (const CodeInfo* code : codes)
    if (std::find(sources.begin(), sources.end(), code->source) == sources.end())
      sources.push_back(code->source);

  ByteWriter info(&out->info);
  ByteWriter line(&out->line);
  std::vector<const CodeInfo*> unit_codes;
  for (const std::string& source : sources) {
    unit_codes.clear();
    for (const CodeInfo* code : codes)
      if (code->source == source) unit_codes.push_back(code);
    bool has_lines = !source.empty();
    uint64_t low = unit_codes.front()->address;
    uint64_t high = low;
    for (const CodeInfo* code : unit_codes) high = std::max(high, code->address + code->size);

    uint32_t stmt_list = static_cast<uint32_t>(line.size());
    if (has_lines) WriteLineProgram(line, source, unit_codes);

    size_t unit = info.size();
    info.U32(0);  // unit_length, patched
    info.U16(kDwarfVersion);
    info.U32(0);  // abbrev offset
    info.U8(kAddressSize);
    info.ULeb128(has_lines ? kAbbrevUnitWithLines : kAbbrevUnitNoLines);
    info.U32(producer);
    info.U32(strings.Add(has_lines ? source : "<jit>"));
    info.U32(dir);
    if (has_lines) info.U32(stmt_list);
    // With gaps between codes the unit's range covers them too; readers find
    // the subprograms' exact ranges below.
    info.U64(low);
    info.U64(high - low);
    for (const CodeInfo* code : unit_codes) {
      info.ULeb128(has_lines ? kAbbrevSubprogramWithDecl : kAbbrevSubprogramNoDecl);
      info.U32(strings.Add(SubprogramName(code->name)));
      info.U64(code->address);
      info.U64(code->size);
      if (has_lines) {
        info.ULeb128(1);  // the line program's only file
        info.ULeb128(code->first_line);
      }
      info.ULeb128(1);
      info.U8(kOpCallFrameCfa);
    }
    info.U8(0);  // end of the unit's children
    info.Patch32(unit, static_cast<uint32_t>(info.size() - unit - 4));
  }
}

}  // namespace jitscope
