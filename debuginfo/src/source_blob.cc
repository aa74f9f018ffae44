#include "debuginfo/source_blob.h"

#include <cstring>

#include "debuginfo/result.h"

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

bool get64(const uint8_t* data, size_t size, size_t* pos, uint64_t* v, std::string* error) {
  uint32_t lo, hi;
  if (!get32(data, size, pos, &lo, error) || !get32(data, size, pos, &hi, error)) return false;
  *v = static_cast<uint64_t>(hi) << 32 | lo;
  return true;
}

class BlobOut {
 public:
  explicit BlobOut(uint8_t* out) : out_(out) {}
  void put32(size_t v) {
    for (int i = 0; i < 4; i++) *out_++ = static_cast<uint8_t>(v >> (8 * i));
  }
  void put64(uint64_t v) {
    put32(static_cast<uint32_t>(v));
    put32(static_cast<uint32_t>(v >> 32));
  }
  void put(std::string_view bytes) {
    if (!bytes.empty()) memcpy(out_, bytes.data(), bytes.size());
    out_ += bytes.size();
  }
  void functions(const std::vector<SourceFunction>& functions) {
    for (const SourceFunction& f : functions) {
      put32(f.first_line);
      put32(f.last_line);
      put32(f.name.size());
      put(f.name);
    }
  }

 private:
  uint8_t* out_;
};

// The function records from `pos` to the end of the blob.
bool DecodeFunctions(const uint8_t* data, size_t size, size_t pos, uint32_t nfuncs,
                     std::vector<SourceFunction>* out, std::string* error) {
  // Each record takes at least 12 bytes: a count larger than the rest is a lie.
  if (nfuncs > (size - pos) / 12) {
    *error = "source blob claims " + std::to_string(nfuncs) + " functions at offset " + std::to_string(pos);
    return false;
  }
  out->clear();
  for (uint32_t i = 0; i < nfuncs; i++) {
    SourceFunction f;
    uint32_t len;
    if (!get32(data, size, &pos, &f.first_line, error) || !get32(data, size, &pos, &f.last_line, error) ||
        !get32(data, size, &pos, &len, error) || !get_bytes(data, size, &pos, len, &f.name, error))
      return false;
    out->push_back(std::move(f));
  }
  return true;
}

}  // namespace

size_t EncodedSourceBlobSize(std::string_view chunk_name, std::string_view text,
                             const std::vector<SourceFunction>& functions) {
  size_t size = 8 + 12 + chunk_name.size() + text.size();
  for (const SourceFunction& f : functions) size += 12 + f.name.size();
  return size;
}

void EncodeSourceBlobTo(std::string_view chunk_name, std::string_view text,
                        const std::vector<SourceFunction>& functions, uint8_t* out) {
  BlobOut o(out);
  o.put(std::string_view(kSourceBlobMagic, 8));
  o.put32(chunk_name.size());
  o.put32(text.size());
  o.put32(functions.size());
  o.put(chunk_name);
  o.put(text);
  o.functions(functions);
}

size_t EncodedSourceBlobRefSize(std::string_view chunk_name, const std::vector<SourceFunction>& functions) {
  return EncodedSourceBlobSize(chunk_name, {}, functions) + 12;  // + reserved and text_addr
}

void EncodeSourceBlobRefTo(std::string_view chunk_name, uint64_t text_addr, uint32_t text_len,
                           const std::vector<SourceFunction>& functions, uint8_t* out) {
  BlobOut o(out);
  o.put(std::string_view(kSourceBlobRefMagic, 8));
  o.put32(chunk_name.size());
  o.put32(text_len);
  o.put32(functions.size());
  o.put32(0);
  o.put64(text_addr);
  o.put(chunk_name);
  o.functions(functions);
}

std::vector<uint8_t> EncodeSourceBlob(const SourceBlob& blob) {
  std::vector<uint8_t> out(EncodedSourceBlobSize(blob.chunk_name, blob.text, blob.functions));
  EncodeSourceBlobTo(blob.chunk_name, blob.text, blob.functions, out.data());
  return out;
}

bool IsSourceBlobRef(const uint8_t* data, size_t size) {
  return size >= 8 && memcmp(data, kSourceBlobRefMagic, 8) == 0;
}

bool DecodeSourceBlob(const uint8_t* data, size_t size, SourceBlob* out, std::string* error) {
  if (size > kMaxSourceBlobSize) {
    *error = "source blob of " + std::to_string(size) + " bytes exceeds the limit";
    return false;
  }
  if (IsSourceBlobRef(data, size)) {
    *error = "a source blob that refers to its text in the target (resolve it against the target's memory first)";
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
  return DecodeFunctions(data, size, pos, nfuncs, &out->functions, error);
}

bool ResolveSourceBlob(const uint8_t* data, size_t size, Memory& memory, std::vector<uint8_t>* out,
                       std::string* error) {
  if (size > kMaxSourceBlobSize) {
    *error = "source blob of " + std::to_string(size) + " bytes exceeds the limit";
    return false;
  }
  if (!IsSourceBlobRef(data, size)) {
    out->assign(data, data + size);
    return true;
  }
  size_t pos = 8;
  uint32_t name_len, text_len, nfuncs, reserved;
  uint64_t text_addr;
  if (!get32(data, size, &pos, &name_len, error) || !get32(data, size, &pos, &text_len, error) ||
      !get32(data, size, &pos, &nfuncs, error) || !get32(data, size, &pos, &reserved, error) ||
      !get64(data, size, &pos, &text_addr, error))
    return false;
  size_t name_at = pos;
  if (size - pos < name_len) {
    *error = "truncated source blob at offset " + std::to_string(pos) + " (needs " + std::to_string(name_len) +
             " bytes)";
    return false;
  }
  pos += name_len;
  // The records are checked before the text is fetched: a hostile target
  // gets no large read for a blob that is malformed anyway.
  std::vector<SourceFunction> functions;
  if (!DecodeFunctions(data, size, pos, nfuncs, &functions, error)) return false;
  size_t records = size - pos;
  size_t total = 8 + 12 + name_len + static_cast<size_t>(text_len) + records;
  if (total > kMaxSourceBlobSize) {
    *error = "source blob with " + std::to_string(text_len) + " bytes of text exceeds the limit";
    return false;
  }
  if (text_addr + text_len < text_addr) {
    *error = "source blob's text at " + HexAddress(text_addr) + " wraps around";
    return false;
  }
  out->resize(total);
  uint8_t* o = out->data();
  BlobOut w(o);
  w.put(std::string_view(kSourceBlobMagic, 8));
  w.put32(name_len);
  w.put32(text_len);
  w.put32(nfuncs);
  w.put(std::string_view(reinterpret_cast<const char*>(data + name_at), name_len));
  uint8_t* text = o + 8 + 12 + name_len;
  if (text_len != 0 && !memory.ReadFully(text_addr, text, text_len)) {
    *error = "cannot read the source text at " + HexAddress(text_addr) + " (" + std::to_string(text_len) + " bytes)";
    out->clear();
    return false;
  }
  memcpy(text + text_len, data + pos, records);
  return true;
}

std::function<bool(Memory&, std::vector<uint8_t>*, std::string*)> SourceBlobFixup() {
  return [](Memory& memory, std::vector<uint8_t>* bytes, std::string* error) {
    if (!IsSourceBlobRef(bytes->data(), bytes->size())) return true;
    std::vector<uint8_t> resolved;
    if (!ResolveSourceBlob(bytes->data(), bytes->size(), memory, &resolved, error)) return false;
    *bytes = std::move(resolved);
    return true;
  };
}

}  // namespace jitscope
