#include "debuginfo/source_blob.h"

#include <gtest/gtest.h>

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

// The VM encodes from views of its Protos' names: the same bytes.
TEST(SourceBlob, RecordsWithoutOwnedNamesEncodeTheSameBytes) {
  SourceBlob b = Sample();
  b.functions.push_back({std::string(300, 'x') + "@fib.lua:9", 9, 12});  // past any small-string buffer
  std::vector<SourceFunctionRef> refs;
  for (const SourceFunction& f : b.functions) refs.push_back({f.name, f.first_line, f.last_line});
  std::vector<uint8_t> expected = EncodeSourceBlob(b);
  ASSERT_EQ(EncodedSourceBlobSize(b.chunk_name, b.text, refs.data(), refs.size()), expected.size());
  std::vector<uint8_t> bytes(expected.size());
  EncodeSourceBlobTo(b.chunk_name, b.text, refs.data(), refs.size(), bytes.data());
  EXPECT_EQ(bytes, expected);
  EXPECT_EQ(EncodedSourceBlobSize("c", "", nullptr, 0), EncodeSourceBlob(SourceBlob{"c", "", {}}).size());
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

}  // namespace
}  // namespace jitscope
