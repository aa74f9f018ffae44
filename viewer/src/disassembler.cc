#include "viewer/disassembler.h"

#include <capstone/capstone.h>

#include <cstdio>
#include <memory>

namespace jitscope {
namespace {

// One function of compiled Lua is a few KiB; this bounds a hostile size.
constexpr uint64_t kMaxDisassemblyBytes = 16ull << 20;

std::string SymbolFor(const Symbolizer* symbols, uint64_t value) {
  if (!symbols) return "";
  std::optional<SymbolMatch> m = symbols->Lookup(value);
  if (!m) return "";
  std::string s = m->symbol->name;
  if (m->offset) {
    char buf[32];
    snprintf(buf, sizeof(buf), "+0x%llx", static_cast<unsigned long long>(m->offset));
    s += buf;
  }
  return s;
}

}  // namespace

Result<std::vector<DisassembledInstruction>> Disassemble(Memory& memory, uint64_t address, uint64_t size,
                                                         const Symbolizer* symbols) {
  if (size == 0 || size > kMaxDisassemblyBytes) return Error{"bad code size " + std::to_string(size)};
  std::vector<uint8_t> code(size);
  if (!memory.ReadFully(address, code.data(), code.size()))
    return Error{"cannot read " + std::to_string(size) + " bytes of code at " + HexAddress(address)};
  csh handle;
  if (cs_open(CS_ARCH_X86, CS_MODE_64, &handle) != CS_ERR_OK) return Error{"Capstone cannot open x86-64"};
  std::unique_ptr<csh, void (*)(csh*)> closer(&handle, [](csh* h) { cs_close(h); });
  cs_option(handle, CS_OPT_DETAIL, CS_OPT_ON);
  cs_insn* insn = cs_malloc(handle);
  std::unique_ptr<cs_insn, void (*)(cs_insn*)> freer(insn, [](cs_insn* i) { cs_free(i, 1); });
  std::vector<DisassembledInstruction> out;
  const SymbolInfo* owner = nullptr;
  if (symbols) {
    std::optional<SymbolMatch> m = symbols->Lookup(address);
    if (m) owner = m->symbol;
  }
  const uint8_t* p = code.data();
  size_t left = code.size();
  uint64_t pc = address;
  uint32_t last_line = 0;
  while (left > 0) {
    DisassembledInstruction d;
    d.address = pc;
    if (owner && owner->info && !owner->info->lines.empty()) {
      SourceLocation loc = LookupLine(*owner->info, pc);
      if (loc.line != 0 && loc.line != last_line) {
        d.source = loc.file + ":" + std::to_string(loc.line);
        last_line = loc.line;
      }
    }
    uint64_t at = pc;
    if (!cs_disasm_iter(handle, &p, &left, &pc, insn)) {
      d.bytes.assign(p, p + 1);
      d.mnemonic = ".byte";
      char buf[8];
      snprintf(buf, sizeof(buf), "0x%02x", *p);
      d.operands = buf;
      p++;
      left--;
      pc = at + 1;
      out.push_back(std::move(d));
      continue;
    }
    d.bytes.assign(insn->bytes, insn->bytes + insn->size);
    d.mnemonic = insn->mnemonic;
    d.operands = insn->op_str;
    if (insn->detail) {
      const cs_x86& x86 = insn->detail->x86;
      for (uint8_t i = 0; i < x86.op_count && d.target.empty(); i++)
        if (x86.operands[i].type == X86_OP_IMM)
          d.target = SymbolFor(symbols, static_cast<uint64_t>(x86.operands[i].imm));
    }
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace jitscope
