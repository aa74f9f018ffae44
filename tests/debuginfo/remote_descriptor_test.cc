// The reader against another live process: jitscope_fake_jit registers fake
// symfiles through the C API; we locate and read them with RemoteMemory.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "debuginfo/descriptor_locator.h"
#include "debuginfo/descriptor_reader.h"
#include "harness/child_process.h"
#include "harness/paths.h"
#include "unwinder/remote_memory.h"

namespace jitscope {
namespace {

using testing::BinPath;
using testing::ChildProcess;
using testing::LaunchOptions;

constexpr auto kReadyTimeout = std::chrono::seconds(20);

std::unique_ptr<ChildProcess> StartFakeJit(std::vector<std::string> args) {
  LaunchOptions options;
  options.argv = {BinPath("jitscope_fake_jit")};
  options.argv.insert(options.argv.end(), args.begin(), args.end());
  std::string error;
  std::unique_ptr<ChildProcess> child = ChildProcess::Start(options, &error);
  EXPECT_NE(child, nullptr) << error;
  if (child != nullptr) {
    EXPECT_TRUE(child->WaitForOutput("ready", kReadyTimeout)) << child->Stderr();
  }
  return child;
}

Result<DescriptorSnapshot> ReadRemote(pid_t pid, DescriptorLocation* location = nullptr) {
  DescriptorLocator locator;
  Result<std::vector<DescriptorLocation>> found = locator.Locate(pid);
  if (!found) return std::move(found).take_error();
  if (found->size() != 1) return Error{"expected one descriptor, found " + std::to_string(found->size())};
  if (location != nullptr) *location = (*found)[0];
  RemoteMemory memory(pid);
  DescriptorReader reader(memory);
  return reader.Read((*found)[0].address);
}

TEST(RemoteMemoryTest, ReadsOwnMemoryAndFailsCleanlyOnHoles) {
  static const char kText[] = "remote hello";
  RemoteMemory memory(getpid());
  char out[sizeof(kText)] = {};
  ASSERT_TRUE(memory.ReadFully(reinterpret_cast<uint64_t>(kText), out, sizeof(out)));
  EXPECT_STREQ(out, kText);
  EXPECT_EQ(memory.Read(0x10, out, 8), 0u) << "page zero is never mapped";
  EXPECT_NE(memory.last_error(), 0);
  EXPECT_EQ(memory.Read(~0ull - 8, out, 8), 0u);
}

TEST(RemoteMemoryTest, ExitedProcess) {
  std::unique_ptr<ChildProcess> child = StartFakeJit({"--timeout-ms", "0"});
  ASSERT_NE(child, nullptr);
  ASSERT_TRUE(child->Wait(std::chrono::seconds(20)).has_value());
  RemoteMemory memory(child->pid());
  uint64_t value;
  EXPECT_FALSE(memory.Read64(0x400000, &value));
  EXPECT_EQ(memory.last_error(), ESRCH) << std::strerror(memory.last_error());
}

TEST(RemoteDescriptorTest, ReadsEntriesOfAnotherProcess) {
  std::unique_ptr<ChildProcess> child = StartFakeJit({"--entries", "3"});
  ASSERT_NE(child, nullptr);
  DescriptorLocation location;
  Result<DescriptorSnapshot> snapshot = ReadRemote(child->pid(), &location);
  ASSERT_TRUE(snapshot.ok()) << snapshot.error();
  EXPECT_NE(child->Stdout().find("descriptor=" + HexAddress(location.address)), std::string::npos)
      << "the helper prints &__jit_debug_descriptor: " << child->Stdout();
  EXPECT_EQ(snapshot->variant, DescriptorVariant::kAndroid2);
  ASSERT_EQ(snapshot->entries.size(), 3u);
  // Registered in order 0, 1, 2 and linked at the head: newest first.
  EXPECT_EQ(snapshot->entries[0].symfile_size, 64u + 32);
  EXPECT_EQ(snapshot->entries[2].symfile_size, 64u);
  RemoteMemory memory(child->pid());
  DescriptorReader reader(memory);
  Result<std::vector<uint8_t>> bytes = reader.ReadSymfile(*snapshot, snapshot->entries[2]);
  ASSERT_TRUE(bytes.ok()) << bytes.error();
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(bytes->data()) + 1, 3), "ELF");
  EXPECT_EQ(child->Stop(), 0);
}

TEST(RemoteDescriptorTest, UnregisteredEntriesDisappear) {
  std::unique_ptr<ChildProcess> child = StartFakeJit({"--entries", "4", "--unregister", "2"});
  ASSERT_NE(child, nullptr);
  Result<DescriptorSnapshot> snapshot = ReadRemote(child->pid());
  ASSERT_TRUE(snapshot.ok()) << snapshot.error();
  ASSERT_EQ(snapshot->entries.size(), 2u);
  EXPECT_EQ(snapshot->action_flag, 2u) << "last action was an unregister";
  EXPECT_EQ(snapshot->seqlock, 12u) << "six changes";
}

TEST(RemoteDescriptorTest, ReadsAWriterThatNeverStops) {
  std::unique_ptr<ChildProcess> child = StartFakeJit({"--entries", "5", "--churn"});
  ASSERT_NE(child, nullptr);
  int consistent = 0;
  for (int i = 0; i < 200; i++) {
    Result<DescriptorSnapshot> snapshot = ReadRemote(child->pid());
    ASSERT_TRUE(snapshot.ok()) << snapshot.error();
    // 5 fixed entries plus, at times, the churned one.
    EXPECT_TRUE(snapshot->entries.size() == 5 || snapshot->entries.size() == 6) << snapshot->entries.size();
    consistent++;
  }
  EXPECT_EQ(consistent, 200);
}

}  // namespace
}  // namespace jitscope
