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
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

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
// The same from records that do not own their names: a VM loading a chunk
// has every function's name already, and copying each into a std::string
// (a malloc for names past 15 bytes) was a fifth of registering a chunk.
struct SourceFunctionRef {
  std::string_view name;
  uint32_t first_line = 0;
  uint32_t last_line = 0;
};
size_t EncodedSourceBlobSize(std::string_view chunk_name, std::string_view text,
                             const SourceFunctionRef* functions, size_t count);
void EncodeSourceBlobTo(std::string_view chunk_name, std::string_view text, const SourceFunctionRef* functions,
                        size_t count, uint8_t* out);
// False (with *error naming the offset) on truncated, oversized or malformed input.
bool DecodeSourceBlob(const uint8_t* data, size_t size, SourceBlob* out, std::string* error);

}  // namespace jitscope
