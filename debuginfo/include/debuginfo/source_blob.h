// Source blobs: what __jit_source_descriptor's entries point at. One blob per
// loaded chunk of source (a Lua chunk for jitvm), so tools in other processes
// (or reading a tombstone) can show source lines without the file.
//
// Layout (little-endian, no padding):
//   magic      8 bytes  "JSRCBLB1"
//   name_len   u32      bytes of the chunk name that follows
//   text_len   u32      bytes of source text that follows the name
//   nfuncs     u32      function records that follow the text
//   name       name_len bytes (e.g. "fib.lua", no NUL)
//   text       text_len bytes (the source as loaded)
//   nfuncs x { first_line u32, last_line u32, name_len u32, name bytes }
//              one per function of the chunk: the code name it is compiled
//              under ("fib@fib.lua:3") and its line range
//
// The reference form (magic "JSRCBLB2") leaves the text where it already is
// in the registering process (jitvm: the Lua string a chunk was loaded
// from) instead of copying it:
//   magic      8 bytes  "JSRCBLB2"
//   name_len   u32
//   text_len   u32
//   nfuncs     u32
//   reserved   u32      0
//   text_addr  u64      address of text_len bytes of source in the
//                       registering process, valid while the entry is
//   name       name_len bytes
//   nfuncs x { first_line u32, last_line u32, name_len u32, name bytes }
// A reader in another process copies the text from text_addr and then checks
// the entry's seqlock again (ResolveSourceBlob, as a JitSnapshotter symfile
// fixup): what it stores, in snapshots and tombstones, is always the inline
// form, so offline readers never see a reference.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "debuginfo/memory.h"

namespace jitscope {

struct SourceFunction {
  std::string name;
  uint32_t first_line = 0;
  uint32_t last_line = 0;
};

struct SourceBlob {
  std::string chunk_name;
  std::string text;
  std::vector<SourceFunction> functions;
};

inline constexpr char kSourceBlobMagic[8] = {'J', 'S', 'R', 'C', 'B', 'L', 'B', '1'};
inline constexpr char kSourceBlobRefMagic[8] = {'J', 'S', 'R', 'C', 'B', 'L', 'B', '2'};
// Readers refuse larger blobs (a hostile target could claim anything).
inline constexpr uint64_t kMaxSourceBlobSize = uint64_t{64} << 20;

std::vector<uint8_t> EncodeSourceBlob(const SourceBlob& blob);
// The same bytes written straight into memory the caller owns, without
// copying the text first (a JIT registers one blob per loaded chunk):
// EncodedSourceBlobSize bytes for EncodeSourceBlobTo.
size_t EncodedSourceBlobSize(std::string_view chunk_name, std::string_view text,
                             const std::vector<SourceFunction>& functions);
void EncodeSourceBlobTo(std::string_view chunk_name, std::string_view text,
                        const std::vector<SourceFunction>& functions, uint8_t* out);
// The reference form: text_len bytes at text_addr stand for the text, and
// must stay there, unchanged, while the blob is registered.
size_t EncodedSourceBlobRefSize(std::string_view chunk_name, const std::vector<SourceFunction>& functions);
void EncodeSourceBlobRefTo(std::string_view chunk_name, uint64_t text_addr, uint32_t text_len,
                           const std::vector<SourceFunction>& functions, uint8_t* out);
// False (with *error naming the offset) on truncated, oversized or malformed
// input, and on the reference form (resolve it first).
bool DecodeSourceBlob(const uint8_t* data, size_t size, SourceBlob* out, std::string* error);
bool IsSourceBlobRef(const uint8_t* data, size_t size);
// The inline form of a blob: the reference form gets its text from `memory`
// (the registering process); an inline blob is returned as it is. False, with
// *error, when the blob is malformed or the text cannot be read.
bool ResolveSourceBlob(const uint8_t* data, size_t size, Memory& memory, std::vector<uint8_t>* out,
                       std::string* error);
// ResolveSourceBlob in place, as a symbol-file fixup for the JitSnapshotter
// of a source descriptor (a DescriptorReader SymfileFixup).
std::function<bool(Memory&, std::vector<uint8_t>*, std::string*)> SourceBlobFixup();

}  // namespace jitscope
