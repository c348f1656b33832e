// FUSE: mount a file system in a temp dir and use it with ordinary shell
// tools. Skipped (with the reason) where /dev/fuse is unavailable.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include <vmodem/fs/fuse.hpp>

#include "fs_fixture.hpp"

namespace vmodem::fs::testing {
namespace {

int sh(const std::string& command) {
  const int rc = std::system(command.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

struct Fuse : ::testing::Test {
  void SetUp() override {
    std::string why;
    if (!fuse_available(&why)) GTEST_SKIP() << "FUSE unavailable: " << why;
    char tmpl[] = "/tmp/vmodem-fuse-XXXXXX";
    base = ::mkdtemp(tmpl);
    mnt = base / "mnt";
    std::filesystem::create_directories(mnt);
    rig.format();
    rig.mount();
    shared = std::make_unique<SharedFileSystem>(std::move(rig.fs));
    auto m = FuseMount::start(*shared, mnt);
    ASSERT_TRUE(m) << m.error().message();
    mount = std::move(*m);
  }
  void TearDown() override {
    if (mount) {
      EXPECT_TRUE(mount->stop());
    }
    mount.reset();
    std::error_code ignored;
    if (!base.empty()) std::filesystem::remove_all(base, ignored);
  }
  Rig rig{64};
  std::unique_ptr<SharedFileSystem> shared;  // rig's file system, served by FUSE
  std::filesystem::path base, mnt;
  std::unique_ptr<FuseMount> mount;
};

TEST_F(Fuse, ShellToolsCreateReadRenameDelete) {
  const auto host = base / "host.bin";
  {
    auto data = bytes(100000, 5);
    std::ofstream(host, std::ios::binary)
        .write(reinterpret_cast<const char*>(data.data()),
               static_cast<std::streamsize>(data.size()));
  }
  const std::string m = mnt.string();
  ASSERT_EQ(sh("cp " + host.string() + " " + m + "/copy.bin"), 0);
  ASSERT_EQ(sh("cmp -s " + host.string() + " " + m + "/copy.bin"), 0);
  ASSERT_EQ(sh("mkdir " + m + "/dir && echo hello > " + m + "/dir/hello.txt"), 0);
  EXPECT_EQ(slurp(mnt / "dir" / "hello.txt"), "hello\n");
  ASSERT_EQ(sh("cat " + m + "/dir/hello.txt > " + (base / "out.txt").string()), 0);
  EXPECT_EQ(slurp(base / "out.txt"), "hello\n");
  ASSERT_EQ(sh("echo more >> " + m + "/dir/hello.txt"), 0);
  ASSERT_EQ(sh("mv " + m + "/copy.bin " + m + "/dir/moved.bin"), 0);
  ASSERT_EQ(sh("ls " + m + "/dir > " + (base / "ls.txt").string()), 0);
  EXPECT_EQ(slurp(base / "ls.txt"), "hello.txt\nmoved.bin\n");
  ASSERT_EQ(sh("rm " + m + "/dir/moved.bin"), 0);
  EXPECT_NE(sh("cat " + m + "/nope 2>/dev/null"), 0);
  EXPECT_NE(sh("rmdir " + m + "/dir 2>/dev/null"), 0) << "not empty";
  ASSERT_EQ(sh("df " + m + " > /dev/null"), 0);
  // The same content through the FileSystem API (under its lock).
  {
    const auto fs = shared->lock();
    EXPECT_EQ(*fs->read_file("/dir/hello.txt"), text("hello\nmore\n"));
    EXPECT_EQ(fs->stat("/dir/moved.bin").error().code, Errc::not_found);
  }
  ASSERT_TRUE(mount->stop());
  mount.reset();
  shared.reset();
  // Durable: a remount of the NAND sees what the shell wrote.
  rig.remount();
  EXPECT_EQ(*rig.fs->read_file("/dir/hello.txt"), text("hello\nmore\n"));
}

TEST_F(Fuse, ExternalUnmountEndsTheLoop) {
  ASSERT_EQ(sh("fusermount3 -u " + mnt.string()), 0);
  for (int i = 0; i < 100 && mount->running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_FALSE(mount->running());
}

}  // namespace
}  // namespace vmodem::fs::testing
