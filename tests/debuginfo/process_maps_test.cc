#include "debuginfo/process_maps.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace jitscope {
namespace {

TEST(ProcessMapsTest, ParsesEveryKindOfLine) {
  constexpr std::string_view kMaps =
      "55d0c3a00000-55d0c3a4e000 r--p 00000000 fd:01 1234                       /usr/bin/jitvm\n"
      "55d0c3a4e000-55d0c3b00000 r-xp 0004e000 fd:01 1234                       /usr/bin/jitvm\n"
      "7f0000000000-7f0000021000 rw-p 00000000 00:00 0 \n"
      "7f0000100000-7f0000200000 rw-s 00000000 00:05 77                         /memfd:jit-cache (deleted)\n"
      "7f0000300000-7f0000301000 r--p 00001000 fd:01 99                         /opt/my lib/with space.so\n"
      "7f0000400000-7f0000401000 r-xp 00000000 fd:01 98                         /tmp/gone.so (deleted)\n"
      "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]\n";
  Result<std::vector<MapEntry>> maps = ParseProcessMaps(kMaps);
  ASSERT_TRUE(maps.ok()) << maps.error();
  ASSERT_EQ(maps->size(), 7u);
  const MapEntry& text = (*maps)[1];
  EXPECT_EQ(text.start, 0x55d0c3a4e000u);
  EXPECT_EQ(text.end, 0x55d0c3b00000u);
  EXPECT_EQ(text.offset, 0x4e000u);
  EXPECT_TRUE(text.readable);
  EXPECT_FALSE(text.writable);
  EXPECT_TRUE(text.executable);
  EXPECT_FALSE(text.shared);
  EXPECT_EQ(text.device, "fd:01");
  EXPECT_EQ(text.inode, 1234u);
  EXPECT_EQ(text.path, "/usr/bin/jitvm");
  EXPECT_TRUE(text.IsFileBacked());

  EXPECT_EQ((*maps)[2].path, "");
  EXPECT_FALSE((*maps)[2].IsFileBacked());
  EXPECT_TRUE((*maps)[3].shared);
  EXPECT_TRUE((*maps)[3].deleted);
  EXPECT_EQ((*maps)[3].path, "/memfd:jit-cache");
  EXPECT_EQ((*maps)[4].path, "/opt/my lib/with space.so");
  EXPECT_TRUE((*maps)[5].deleted);
  EXPECT_EQ((*maps)[5].path, "/tmp/gone.so");
  EXPECT_EQ((*maps)[6].path, "[stack]");
  EXPECT_FALSE((*maps)[6].IsFileBacked());
}

TEST(ProcessMapsTest, ReportsMalformedLines) {
  Result<std::vector<MapEntry>> maps = ParseProcessMaps("00400000-00401000 r-xp 00000000 fd:01 12 /bin/x\nbogus\n");
  ASSERT_FALSE(maps.ok());
  EXPECT_NE(maps.error().find("line 2"), std::string::npos) << maps.error();
  EXPECT_FALSE(ParseProcessMaps("00402000-00401000 r-xp 00000000 fd:01 12 /bin/x\n").ok()) << "end before start";
  EXPECT_FALSE(ParseProcessMaps("00400000-00401000 r-x 00000000 fd:01 12 /bin/x\n").ok()) << "short perms";
}

TEST(ProcessMapsTest, ReadsOwnMaps) {
  Result<std::vector<MapEntry>> maps = ReadProcessMaps(getpid());
  ASSERT_TRUE(maps.ok()) << maps.error();
  auto here = reinterpret_cast<uint64_t>(&ParseProcessMaps);
  bool found = false;
  for (const MapEntry& map : *maps) {
    if (here >= map.start && here < map.end) {
      found = true;
      EXPECT_TRUE(map.executable);
    }
  }
  EXPECT_TRUE(found);
}

TEST(ProcessMapsTest, MissingProcessIsAnError) {
  Result<std::vector<MapEntry>> maps = ReadProcessMaps(0x7ffffff0);
  ASSERT_FALSE(maps.ok());
  EXPECT_NE(maps.error().find("/proc/2147483632/maps"), std::string::npos) << maps.error();
}

}  // namespace
}  // namespace jitscope
