#include "debuginfo/source_blob.h"

#include <gtest/gtest.h>

#include <cstring>

#include "debuginfo/memory.h"

namespace jitscope {
namespace {

SourceBlob Sample() {
  SourceBlob b;
  b.chunk_name = "fib.lua";
  b.text = "local function fib(n)\n  return n\nend\n";
  b.functions = {{"main@fib.lua:0", 0, 0}, {"fib@fib.lua:1", 1, 3}};
  return b;
}

TEST(SourceBlob, RoundTrips) {
  std::vector<uint8_t> bytes = EncodeSourceBlob(Sample());
  SourceBlob out;
  std::string error;
  ASSERT_TRUE(DecodeSourceBlob(bytes.data(), bytes.size(), &out, &error)) << error;
  EXPECT_EQ(out.chunk_name, "fib.lua");
  EXPECT_EQ(out.text, Sample().text);
  ASSERT_EQ(out.functions.size(), 2u);
  EXPECT_EQ(out.functions[1].name, "fib@fib.lua:1");
  EXPECT_EQ(out.functions[1].last_line, 3u);
}

TEST(SourceBlob, EveryTruncationIsRejectedWithAnOffset) {
  std::vector<uint8_t> bytes = EncodeSourceBlob(Sample());
  for (size_t n = 0; n < bytes.size(); n++) {
    SourceBlob out;
    std::string error;
    EXPECT_FALSE(DecodeSourceBlob(bytes.data(), n, &out, &error)) << "accepted a blob cut at " << n;
    EXPECT_FALSE(error.empty());
  }
}

TEST(SourceBlob, HostileCountsAndMagicAreRejected) {
  std::vector<uint8_t> bytes = EncodeSourceBlob(Sample());
  std::string error;
  SourceBlob out;
  std::vector<uint8_t> bad = bytes;
  bad[0] = 'X';
  EXPECT_FALSE(DecodeSourceBlob(bad.data(), bad.size(), &out, &error));
  bad = bytes;
  bad[16] = 0xff, bad[17] = 0xff, bad[18] = 0xff, bad[19] = 0x7f;  // nfuncs
  EXPECT_FALSE(DecodeSourceBlob(bad.data(), bad.size(), &out, &error));
  EXPECT_NE(error.find("functions"), std::string::npos) << error;
  bad = bytes;
  bad[12] = 0xff, bad[13] = 0xff, bad[14] = 0xff, bad[15] = 0xff;  // text_len
  EXPECT_FALSE(DecodeSourceBlob(bad.data(), bad.size(), &out, &error));
}

// The reference form: the text stays in the "target" (a BufferMemory here).
constexpr uint64_t kTextAt = 0x7f0000001000;

std::vector<uint8_t> SampleRef(uint64_t text_addr = kTextAt) {
  SourceBlob b = Sample();
  std::vector<uint8_t> bytes(EncodedSourceBlobRefSize(b.chunk_name, b.functions));
  EncodeSourceBlobRefTo(b.chunk_name, text_addr, static_cast<uint32_t>(b.text.size()), b.functions, bytes.data());
  return bytes;
}

BufferMemory TargetWithText() {
  std::string text = Sample().text;
  return BufferMemory(kTextAt, std::vector<uint8_t>(text.begin(), text.end()));
}

TEST(SourceBlob, ReferenceResolvesToTheInlineFormByteForByte) {
  std::vector<uint8_t> ref = SampleRef();
  EXPECT_TRUE(IsSourceBlobRef(ref.data(), ref.size()));
  EXPECT_EQ(ref.size() + Sample().text.size(), EncodeSourceBlob(Sample()).size() + 12);
  SourceBlob out;
  std::string error;
  EXPECT_FALSE(DecodeSourceBlob(ref.data(), ref.size(), &out, &error));
  EXPECT_NE(error.find("resolve"), std::string::npos) << error;
  BufferMemory memory = TargetWithText();
  std::vector<uint8_t> resolved;
  ASSERT_TRUE(ResolveSourceBlob(ref.data(), ref.size(), memory, &resolved, &error)) << error;
  EXPECT_EQ(resolved, EncodeSourceBlob(Sample()));
  // An inline blob passes through unchanged; the fixup leaves it alone too.
  std::vector<uint8_t> inline_blob = EncodeSourceBlob(Sample()), again;
  ASSERT_TRUE(ResolveSourceBlob(inline_blob.data(), inline_blob.size(), memory, &again, &error)) << error;
  EXPECT_EQ(again, inline_blob);
  std::vector<uint8_t> fixed = ref;
  ASSERT_TRUE(SourceBlobFixup()(memory, &fixed, &error)) << error;
  EXPECT_EQ(fixed, EncodeSourceBlob(Sample()));
}

TEST(SourceBlob, ReferenceToUnreadableTextIsAnErrorNotACrash) {
  BufferMemory memory = TargetWithText();
  std::vector<uint8_t> resolved;
  std::string error;
  std::vector<uint8_t> elsewhere = SampleRef(0x1000);
  EXPECT_FALSE(ResolveSourceBlob(elsewhere.data(), elsewhere.size(), memory, &resolved, &error));
  EXPECT_NE(error.find("cannot read the source text"), std::string::npos) << error;
  std::vector<uint8_t> wraps = SampleRef(~uint64_t{0} - 3);
  EXPECT_FALSE(ResolveSourceBlob(wraps.data(), wraps.size(), memory, &resolved, &error));
  EXPECT_NE(error.find("wraps"), std::string::npos) << error;
  // A hostile text length: refused before any read is tried.
  std::vector<uint8_t> huge = SampleRef();
  uint32_t len = 0xffffffffu;
  std::memcpy(huge.data() + 12, &len, 4);
  EXPECT_FALSE(ResolveSourceBlob(huge.data(), huge.size(), memory, &resolved, &error));
  EXPECT_NE(error.find("exceeds the limit"), std::string::npos) << error;
}

TEST(SourceBlob, EveryTruncatedReferenceIsRejected) {
  std::vector<uint8_t> ref = SampleRef();
  BufferMemory memory = TargetWithText();
  for (size_t n = 8; n < ref.size(); n++) {
    std::vector<uint8_t> resolved;
    std::string error;
    EXPECT_FALSE(ResolveSourceBlob(ref.data(), n, memory, &resolved, &error)) << "accepted a reference cut at " << n;
    EXPECT_FALSE(error.empty());
  }
}

}  // namespace
}  // namespace jitscope
