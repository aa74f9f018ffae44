#include "debuginfo/source_blob.h"

#include <cstring>

namespace jitscope {

namespace {

bool get32(const uint8_t* data, size_t size, size_t* pos, uint32_t* v, std::string* error) {
  if (size - *pos < 4 || *pos > size) {
    *error = "truncated source blob at offset " + std::to_string(*pos);
    return false;
  }
  *v = 0;
  for (int i = 0; i < 4; i++) *v |= static_cast<uint32_t>(data[*pos + static_cast<size_t>(i)]) << (8 * i);
  *pos += 4;
  return true;
}

bool get_bytes(const uint8_t* data, size_t size, size_t* pos, uint32_t n, std::string* out, std::string* error) {
  if (*pos > size || size - *pos < n) {
    *error = "truncated source blob at offset " + std::to_string(*pos) + " (needs " + std::to_string(n) + " bytes)";
    return false;
  }
  out->assign(reinterpret_cast<const char*>(data + *pos), n);
  *pos += n;
  return true;
}

}  // namespace

namespace {

template <typename Function>
size_t EncodedSize(std::string_view chunk_name, std::string_view text, const Function* functions, size_t count) {
  size_t size = 8 + 12 + chunk_name.size() + text.size();
  for (size_t i = 0; i < count; i++) size += 12 + functions[i].name.size();
  return size;
}

template <typename Function>
void EncodeTo(std::string_view chunk_name, std::string_view text, const Function* functions, size_t count,
              uint8_t* out) {
  auto put32 = [&out](size_t v) {
    for (int i = 0; i < 4; i++) *out++ = static_cast<uint8_t>(v >> (8 * i));
  };
  auto put = [&out](std::string_view bytes) {
    if (!bytes.empty()) memcpy(out, bytes.data(), bytes.size());
    out += bytes.size();
  };
  put(std::string_view(kSourceBlobMagic, 8));
  put32(chunk_name.size());
  put32(text.size());
  put32(count);
  put(chunk_name);
  put(text);
  for (size_t i = 0; i < count; i++) {
    put32(functions[i].first_line);
    put32(functions[i].last_line);
    put32(functions[i].name.size());
    put(functions[i].name);
  }
}

}  // namespace

size_t EncodedSourceBlobSize(std::string_view chunk_name, std::string_view text,
                             const std::vector<SourceFunction>& functions) {
  return EncodedSize(chunk_name, text, functions.data(), functions.size());
}

void EncodeSourceBlobTo(std::string_view chunk_name, std::string_view text,
                        const std::vector<SourceFunction>& functions, uint8_t* out) {
  EncodeTo(chunk_name, text, functions.data(), functions.size(), out);
}

size_t EncodedSourceBlobSize(std::string_view chunk_name, std::string_view text, const SourceFunctionRef* functions,
                             size_t count) {
  return EncodedSize(chunk_name, text, functions, count);
}

void EncodeSourceBlobTo(std::string_view chunk_name, std::string_view text, const SourceFunctionRef* functions,
                        size_t count, uint8_t* out) {
  EncodeTo(chunk_name, text, functions, count, out);
}

std::vector<uint8_t> EncodeSourceBlob(const SourceBlob& blob) {
  std::vector<uint8_t> out(EncodedSourceBlobSize(blob.chunk_name, blob.text, blob.functions));
  EncodeSourceBlobTo(blob.chunk_name, blob.text, blob.functions, out.data());
  return out;
}

bool DecodeSourceBlob(const uint8_t* data, size_t size, SourceBlob* out, std::string* error) {
  if (size > kMaxSourceBlobSize) {
    *error = "source blob of " + std::to_string(size) + " bytes exceeds the limit";
    return false;
  }
  if (size < 8 || memcmp(data, kSourceBlobMagic, 8) != 0) {
    *error = "not a source blob (bad magic at offset 0)";
    return false;
  }
  size_t pos = 8;
  uint32_t name_len, text_len, nfuncs;
  if (!get32(data, size, &pos, &name_len, error) || !get32(data, size, &pos, &text_len, error) ||
      !get32(data, size, &pos, &nfuncs, error))
    return false;
  if (!get_bytes(data, size, &pos, name_len, &out->chunk_name, error) ||
      !get_bytes(data, size, &pos, text_len, &out->text, error))
    return false;
  // Each record takes at least 12 bytes: a count larger than the rest is a lie.
  if (nfuncs > (size - pos) / 12) {
    *error = "source blob claims " + std::to_string(nfuncs) + " functions at offset " + std::to_string(pos);
    return false;
  }
  out->functions.clear();
  for (uint32_t i = 0; i < nfuncs; i++) {
    SourceFunction f;
    uint32_t len;
    if (!get32(data, size, &pos, &f.first_line, error) || !get32(data, size, &pos, &f.last_line, error) ||
        !get32(data, size, &pos, &len, error) || !get_bytes(data, size, &pos, len, &f.name, error))
      return false;
    out->functions.push_back(std::move(f));
  }
  return true;
}

}  // namespace jitscope
