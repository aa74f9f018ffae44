// .xz streams for .gnu_debugdata, made of independent LZMA2 blocks so a reader
// (gdb, libunwindstack, our symbolizer) may decompress only the block it needs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace jitscope {

// ART's block size: small enough that one lookup decompresses little, large
// enough that LZMA2 still finds the repetition between FDEs and names.
inline constexpr size_t kXzBlockSize = 16 * 1024;

// A standard .xz stream (CRC32 checks, one index) that `xz -d` and gdb accept.
// Returns false (with `error`) only if liblzma fails.
bool XzCompress(const uint8_t* data, size_t size, size_t block_size, uint32_t preset,
                std::vector<uint8_t>* out, std::string* error);

// max_size: refuse (before allocating) a stream whose index claims more.
bool XzDecompress(const uint8_t* data, size_t size, std::vector<uint8_t>* out, std::string* error,
                  uint64_t max_size = UINT64_MAX);

}  // namespace jitscope
