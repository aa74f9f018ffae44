// The jitdump reader on files built here byte by byte: every record kind
// read back, and the framing errors it exists to catch.
#include "jitdump_reader.h"

#include <gtest/gtest.h>

#include <cstring>

namespace jitscope::perf_test {
namespace {

class Bytes {
 public:
  Bytes& U32(uint32_t v) { return Raw(&v, 4); }
  Bytes& U64(uint64_t v) { return Raw(&v, 8); }
  Bytes& Str(const std::string& s) {
    data_ += s;
    data_.push_back('\0');
    return *this;
  }
  Bytes& Raw(const void* p, size_t n) {
    data_.append(static_cast<const char*>(p), n);
    return *this;
  }
  const std::string& data() const { return data_; }

 private:
  std::string data_;
};

std::string Header() { return Bytes().U32(kJitdumpMagic).U32(1).U32(40).U32(62).U32(0).U32(77).U64(5).U64(0).data(); }

std::string Record(uint32_t id, uint64_t timestamp, const std::string& body) {
  return Bytes().U32(id).U32(static_cast<uint32_t>(16 + body.size())).U64(timestamp).data() + body;
}

TEST(JitdumpReader, ReadsEveryRecordKind) {
  std::string code = "\x55\xc3";
  std::string debug = Bytes().U64(0x1000).U64(1).U64(0x1000).U32(3).U32(0).Str("a.lua").data();
  std::string unwind = Bytes().U64(4).U64(2).U64(8).U32(0x01020304).data();
  std::string load = Bytes().U32(77).U32(78).U64(0x1000).U64(0x1000).U64(2).U64(9).Str("f@a.lua:3").data() + code;
  std::string file = Header() + Record(kJitCodeDebugInfo, 6, debug) + Record(kJitCodeUnwindingInfo, 6, unwind) +
                     Record(kJitCodeLoad, 7, load) + Record(kJitCodeClose, 8, "");
  std::string error;
  std::optional<Jitdump> dump = ParseJitdump(file, &error);
  ASSERT_TRUE(dump) << error;
  EXPECT_EQ(dump->header.pid, 77u);
  ASSERT_EQ(dump->records.size(), 4u);
  EXPECT_EQ(dump->records[0].debug_info.entries.at(0).line, 3u);
  EXPECT_EQ(dump->records[0].debug_info.entries.at(0).name, "a.lua");
  EXPECT_EQ(dump->records[1].unwinding.mapped_size, 8u);
  EXPECT_EQ(dump->records[1].unwinding.data.size(), 4u);
  EXPECT_EQ(dump->records[2].load.name, "f@a.lua:3");
  EXPECT_EQ(dump->records[2].load.code, code);
  EXPECT_EQ(dump->records[2].load.code_index, 9u);
  EXPECT_EQ(dump->records[3].id, kJitCodeClose);
}

TEST(JitdumpReader, RejectsBadFraming) {
  std::string error;
  EXPECT_FALSE(ParseJitdump(Header().substr(0, 39), &error));
  std::string bad_magic = Header();
  bad_magic[0] ^= 1;
  EXPECT_FALSE(ParseJitdump(bad_magic, &error));
  // A load whose total_size leaves out its code.
  std::string short_load =
      Header() + Record(kJitCodeLoad, 7, Bytes().U32(1).U32(1).U64(1).U64(1).U64(16).U64(0).Str("f").data());
  EXPECT_FALSE(ParseJitdump(short_load, &error));
  // A close whose total_size claims 16 bytes too many.
  std::string long_close = Header() + Bytes().U32(kJitCodeClose).U32(32).U64(1).U64(0).U64(0).data();
  EXPECT_FALSE(ParseJitdump(long_close, &error));
  EXPECT_NE(error.find("total_size is wrong"), std::string::npos) << error;
  // A record cut off by the end of the file.
  EXPECT_FALSE(ParseJitdump(Header() + Bytes().U32(kJitCodeClose).U32(16).data(), &error));
}

}  // namespace
}  // namespace jitscope::perf_test
