// The stream is assembled by hand from single-call block encodes rather than
// with lzma_stream_encoder_mt: that encoder starts worker threads, and this
// runs on the JIT's compiler thread. Each block gets a fresh encoder with a
// dictionary no larger than the block, which keeps the encoder's memory small
// even at preset 9 (whose default 64 MiB dictionary would cost ~670 MiB);
// the writers use preset 0 (ElfWriterOptions::xz_preset says why).
#include "xz_compress.h"

#include <lzma.h>

#include <algorithm>

namespace jitscope {

namespace {

constexpr lzma_check kCheck = LZMA_CHECK_CRC32;  // what ART and gdb use
// Decoding .gnu_debugdata never needs more than its small dictionaries; the
// limit only stops a hostile stream.
constexpr uint64_t kDecoderMemoryLimit = 64u << 20;
// Bounds the output of a corrupt or hostile stream.
constexpr size_t kMaxDecompressedSize = 256u << 20;

std::string LzmaError(const char* what, lzma_ret ret) {
  return std::string(what) + " failed (lzma_ret " + std::to_string(static_cast<int>(ret)) + ")";
}

class IndexHolder {
 public:
  IndexHolder() : index_(lzma_index_init(nullptr)) {}
  ~IndexHolder() { lzma_index_end(index_, nullptr); }
  IndexHolder(const IndexHolder&) = delete;
  IndexHolder& operator=(const IndexHolder&) = delete;
  lzma_index* get() const { return index_; }

 private:
  lzma_index* index_;
};

// Why a caching allocator: every 16 KiB block gets a fresh LZMA encoder whose
// match-finder tables are large enough for glibc to mmap them, so each block
// paid for mapping, faulting in and unmapping them (most of the compression
// time in a profile). Keeping the last few freed buffers of this thread turns
// that into a reuse.
constexpr size_t kCachedBuffers = 8;
constexpr size_t kHeader = 16;  // keeps the user pointer 16-byte aligned

struct BufferCache {
  std::vector<void*> free_list;  // headers of cached buffers (size at offset 0)
  ~BufferCache() {
    for (void* p : free_list) free(p);
  }
};
thread_local BufferCache tls_cache;

void* CachedAlloc(void* /*opaque*/, size_t nmemb, size_t size) {
  if (size != 0 && nmemb > SIZE_MAX / size) return nullptr;
  size_t bytes = nmemb * size;
  auto& fl = tls_cache.free_list;
  for (size_t i = 0; i < fl.size(); i++) {
    if (*static_cast<size_t*>(fl[i]) == bytes) {
      void* h = fl[i];
      fl[i] = fl.back();
      fl.pop_back();
      return static_cast<char*>(h) + kHeader;
    }
  }
  void* h = malloc(bytes + kHeader);
  if (!h) return nullptr;
  *static_cast<size_t*>(h) = bytes;
  return static_cast<char*>(h) + kHeader;
}

void CachedFree(void* /*opaque*/, void* ptr) {
  if (!ptr) return;
  void* h = static_cast<char*>(ptr) - kHeader;
  auto& fl = tls_cache.free_list;
  if (fl.size() >= kCachedBuffers) {
    free(fl.front());
    fl.erase(fl.begin());
  }
  fl.push_back(h);
}

const lzma_allocator kCachingAllocator = {CachedAlloc, CachedFree, nullptr};

}  // namespace

bool XzCompress(const uint8_t* data, size_t size, size_t block_size, uint32_t preset,
                std::vector<uint8_t>* out, std::string* error) {
  lzma_options_lzma lzma_options;
  if (lzma_lzma_preset(&lzma_options, preset)) {
    *error = "bad xz preset " + std::to_string(preset);
    return false;
  }
  lzma_options.dict_size =
      static_cast<uint32_t>(std::max<size_t>(LZMA_DICT_SIZE_MIN, std::min(block_size, size)));
  lzma_filter filters[2] = {{LZMA_FILTER_LZMA2, &lzma_options},
                            {LZMA_VLI_UNKNOWN, nullptr}};

  IndexHolder index;
  if (index.get() == nullptr) {
    *error = "lzma_index_init failed";
    return false;
  }
  lzma_stream_flags flags = {};
  flags.version = 0;
  flags.check = kCheck;

  size_t blocks = size == 0 ? 0 : (size + block_size - 1) / block_size;
  size_t bound = 2 * LZMA_STREAM_HEADER_SIZE + 64 + blocks * 32;  // headers, footer, index
  for (size_t at = 0; at < size; at += block_size)
    bound += lzma_block_buffer_bound(std::min(block_size, size - at));
  out->resize(bound);
  size_t pos = 0;

  lzma_ret ret = lzma_stream_header_encode(&flags, out->data());
  if (ret != LZMA_OK) {
    *error = LzmaError("lzma_stream_header_encode", ret);
    return false;
  }
  pos += LZMA_STREAM_HEADER_SIZE;

  for (size_t at = 0; at < size; at += block_size) {
    size_t chunk = std::min(block_size, size - at);
    lzma_block block = {};
    block.version = 0;
    block.check = kCheck;
    block.filters = filters;
    block.compressed_size = LZMA_VLI_UNKNOWN;
    block.uncompressed_size = LZMA_VLI_UNKNOWN;
    ret = lzma_block_buffer_encode(&block, &kCachingAllocator, data + at, chunk, out->data(), &pos, out->size());
    if (ret != LZMA_OK) {
      *error = LzmaError("lzma_block_buffer_encode", ret);
      return false;
    }
    ret = lzma_index_append(index.get(), nullptr, lzma_block_unpadded_size(&block), block.uncompressed_size);
    if (ret != LZMA_OK) {
      *error = LzmaError("lzma_index_append", ret);
      return false;
    }
  }

  ret = lzma_index_buffer_encode(index.get(), out->data(), &pos, out->size());
  if (ret != LZMA_OK) {
    *error = LzmaError("lzma_index_buffer_encode", ret);
    return false;
  }
  flags.backward_size = lzma_index_size(index.get());
  if (pos + LZMA_STREAM_HEADER_SIZE > out->size()) {
    *error = "xz output bound too small";
    return false;
  }
  ret = lzma_stream_footer_encode(&flags, out->data() + pos);
  if (ret != LZMA_OK) {
    *error = LzmaError("lzma_stream_footer_encode", ret);
    return false;
  }
  pos += LZMA_STREAM_HEADER_SIZE;
  out->resize(pos);
  return true;
}

bool XzDecompress(const uint8_t* data, size_t size, std::vector<uint8_t>* out, std::string* error,
                  uint64_t max_size) {
  // The index knows the exact uncompressed size; reading it first avoids
  // guessing and growing the buffer.
  if (size < 2 * LZMA_STREAM_HEADER_SIZE) {
    *error = "xz stream of " + std::to_string(size) + " bytes is too short";
    return false;
  }
  lzma_stream_flags footer;
  lzma_ret ret = lzma_stream_footer_decode(&footer, data + size - LZMA_STREAM_HEADER_SIZE);
  if (ret != LZMA_OK) {
    *error = LzmaError("lzma_stream_footer_decode", ret);
    return false;
  }
  if (footer.backward_size > size - 2 * LZMA_STREAM_HEADER_SIZE) {
    *error = "xz index larger than the stream";
    return false;
  }
  lzma_index* index = nullptr;
  uint64_t memlimit = kDecoderMemoryLimit;
  size_t index_pos = size - LZMA_STREAM_HEADER_SIZE - footer.backward_size;
  ret = lzma_index_buffer_decode(&index, &memlimit, nullptr, data, &index_pos,
                                 size - LZMA_STREAM_HEADER_SIZE);
  if (ret != LZMA_OK) {
    *error = LzmaError("lzma_index_buffer_decode", ret);
    return false;
  }
  uint64_t total = lzma_index_uncompressed_size(index);
  lzma_index_end(index, nullptr);
  if (total > max_size) {
    *error = "xz stream claims " + std::to_string(total) + " bytes, beyond the limit of " + std::to_string(max_size);
    return false;
  }
  if (total > kMaxDecompressedSize) {
    *error = "xz stream claims " + std::to_string(total) + " bytes";
    return false;
  }
  out->resize(total);
  memlimit = kDecoderMemoryLimit;
  size_t in_pos = 0;
  size_t out_pos = 0;
  ret = lzma_stream_buffer_decode(&memlimit, 0, nullptr, data, &in_pos, size, out->data(), &out_pos,
                                  out->size());
  if (ret != LZMA_OK || out_pos != total) {
    *error = LzmaError("lzma_stream_buffer_decode", ret);
    return false;
  }
  return true;
}

}  // namespace jitscope
