// The document's two auxiliary tests (SPEC §4) through a FUSE mount of the
// running module's AP file system (`vmodem run --mount DIR`: DIR/ufs): files
// created and deleted with plain file operations, backup and forced restore
// with AT+QPRTPARA, the reset with AT+CFUN=1,1, and the tree checked both
// through the mount and with AT+QFLST. Skipped with the reason where
// /dev/fuse cannot be used.
#include <atomic>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <vmodem/fs/fuse.hpp>

#include "e2e_support.hpp"

namespace vmodem::e2e {
namespace {

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// AP FS restore count (3rd field of AT+QPRTPARA=14).
long ap_restores(const std::string& response) {
  const auto at = response.find("+QPRTPARA: ");
  if (at == std::string::npos) return -1;
  std::istringstream in(response.substr(at + 11));
  std::string field;
  for (int i = 0; i < 3; ++i)
    std::getline(in, field, ',');
  return std::stol(field);
}

struct BackupFuse : ::testing::Test {
  void SetUp() override {
    std::string why;
    if (!fs::fuse_available(&why)) GTEST_SKIP() << "FUSE unavailable: " << why;
    daemon = std::make_unique<Daemon>(std::vector<std::string>{"--mount", mnt.path().string()});
    connect();
  }
  void TearDown() override {
    if (daemon) daemon->stop();  // orderly: the live mounts are unmounted
  }
  void connect() {
    host = std::make_unique<Host>(daemon->port("ttyUSB2"));
    ASSERT_NE(host->read_until_booted().find("APP RDY"), std::string::npos) << daemon->log();
    host->command("ATE0");
  }
  void reset_by_at() {
    EXPECT_EQ(host->command("AT+CFUN=1,1"), "\r\nOK\r\n");
    EXPECT_TRUE(host->hung_up());
    connect();
  }
  std::filesystem::path ufs() const { return mnt.path() / "ufs"; }
  bool listed(const std::string& name) {
    return host->command("AT+QFLST=\"" + name + "\"").find("+QFLST:") != std::string::npos;
  }

  vmodem::testing::TempDir mnt;
  std::unique_ptr<Daemon> daemon;
  std::unique_ptr<Host> host;
};

// Auxiliary test 1: a file created after the backup is removed by a forced
// restore.
TEST_F(BackupFuse, ForcedRestoreRemovesAFileCreatedThroughTheMount) {
  std::ofstream(ufs() / "test.txt") << "written through FUSE";
  ASSERT_TRUE(listed("test.txt")) << "AT+QFLST sees what the mount wrote";
  const long before = ap_restores(host->command("AT+QPRTPARA=14"));
  EXPECT_EQ(host->command("AT+QPRTPARA=13"), "\r\nOK\r\n");
  reset_by_at();
  EXPECT_FALSE(std::filesystem::exists(ufs() / "test.txt"));
  EXPECT_FALSE(listed("test.txt"));
  EXPECT_TRUE(std::filesystem::exists(ufs() / "usb" / "vid_pid")) << "the factory tree stays";
  EXPECT_EQ(ap_restores(host->command("AT+QPRTPARA=14")), before + 1);
}

// Auxiliary test 2: a backed-up file deleted through the mount is brought
// back by a forced restore, byte for byte.
TEST_F(BackupFuse, ForcedRestoreBringsBackAFileDeletedThroughTheMount) {
  const std::string content = "kept by the backup, written through FUSE\n";
  std::ofstream(ufs() / "test.txt") << content;
  EXPECT_EQ(host->command("AT+QPRTPARA=11", 5000ms), "\r\nOK\r\n");
  ASSERT_TRUE(std::filesystem::remove(ufs() / "test.txt"));
  EXPECT_FALSE(listed("test.txt"));
  EXPECT_EQ(host->command("AT+QPRTPARA=13"), "\r\nOK\r\n");
  reset_by_at();
  ASSERT_TRUE(std::filesystem::exists(ufs() / "test.txt"));
  EXPECT_EQ(slurp(ufs() / "test.txt"), content);
  EXPECT_EQ(host->command("AT+QFLST=\"test.txt\""),
            "\r\n+QFLST: \"test.txt\"," + std::to_string(content.size()) + "\r\n\r\nOK\r\n");
}

// errno of creating `path` and writing to it (0 when both worked).
int create_and_write(const std::filesystem::path& path, const std::string& content) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return errno;
  const bool wrote =
      ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
  const int error = wrote ? 0 : errno;
  const int closed = ::close(fd) == 0 ? 0 : errno;
  return error != 0 ? error : closed;
}

// While the module is off the mount point refuses every access with EIO: a
// write neither succeeds nor lands in the host directory underneath (where
// the next power-on's mount would hide it). The next boot serves its file
// systems at the same mount.
TEST_F(BackupFuse, AMountRefusesWritesWhileThePowerIsOff) {
  ASSERT_EQ(create_and_write(ufs() / "before.txt", "written before the cut"), 0);
  ASSERT_TRUE(listed("before.txt"));
  ASSERT_FALSE(daemon->ctl("power-cut").contains("error"));
  ASSERT_TRUE(daemon->wait_power("off"));

  EXPECT_EQ(create_and_write(ufs() / "lost.txt", "written while the power is off"), EIO);
  std::ifstream gone(ufs() / "before.txt");
  EXPECT_FALSE(gone.is_open()) << "opening for reading fails too: the file system is gone";

  ASSERT_FALSE(daemon->ctl("power-on").contains("error"));
  connect();
  EXPECT_EQ(slurp(ufs() / "before.txt"), "written before the cut");
  EXPECT_FALSE(std::filesystem::exists(ufs() / "lost.txt"));
  EXPECT_FALSE(listed("lost.txt"));
  EXPECT_EQ(create_and_write(ufs() / "after.txt", "written after the boot"), 0);
  EXPECT_TRUE(listed("after.txt"));

  daemon->stop();  // unmounts: the plain directory underneath shows up
  daemon.reset();
  EXPECT_FALSE(std::filesystem::exists(ufs() / "lost.txt")) << "nothing landed on the host disk";
}

// kill -9 leaves the daemon's mounts behind, dead: every access fails with
// "Transport endpoint is not connected" and nothing can be mounted there.
// The next start detaches them and mounts again, where a user would
// otherwise have to find fusermount3 -uz.
TEST_F(BackupFuse, TheDeadMountsOfAKilledDaemonAreTakenBackAtTheNextStart) {
  ASSERT_EQ(create_and_write(ufs() / "kept.txt", "written before the kill"), 0);
  ASSERT_TRUE(listed("kept.txt"));
  daemon->kill_hard();
  std::error_code dead;
  (void)std::filesystem::status(ufs(), dead);
  ASSERT_EQ(dead.value(), ENOTCONN) << "the killed daemon's mount stays behind, dead";

  daemon->start();
  connect();
  EXPECT_EQ(slurp(ufs() / "kept.txt"), "written before the kill") << daemon->log();
  EXPECT_NE(daemon->log().find("detached the dead mount a killed vmodem left at"),
            std::string::npos)
      << daemon->log();
}

// Damage injected through the control socket while the host writes through
// the mount: both reach the flash from different threads of the daemon (the
// io thread, FUSE threads) and both go through the flash's one lock. Under
// TSan (`./dev.sh test tsan`) a race makes the daemon exit non-zero.
TEST_F(BackupFuse, DamageInjectedWhileTheHostWritesThroughTheMount) {
  std::atomic<bool> injecting{true};
  std::atomic<int> written{0};
  const std::string content(20 * 1024, 'w');
  std::thread writer([&] {
    for (int i = 0; injecting.load(); ++i) {
      std::ofstream out(ufs() / ("w" + std::to_string(i % 4) + ".bin"), std::ios::binary);
      out << content;
      out.close();
      if (out) written.fetch_add(1);
    }
  });
  int injected = 0;
  for (int i = 0; i < 24; ++i) {
    // One bit in a page: within the ECC's strength, so nothing the host
    // wrote may read back wrong.
    const auto reply =
        daemon->ctl("inject --kind bit-flips --partition usrfs --block " +
                    std::to_string(1 + i % 8) + " --page " + std::to_string(i % 64) + " --bits 1");
    injected += reply.contains("error") ? 0 : 1;
    (void)daemon->ctl("stats");
  }
  injecting.store(false);
  writer.join();
  EXPECT_EQ(injected, 24);
  EXPECT_GT(written.load(), 0);
  for (int i = 0; i < 4; ++i) {
    const auto path = ufs() / ("w" + std::to_string(i) + ".bin");
    if (std::filesystem::exists(path)) {
      EXPECT_EQ(slurp(path), content) << path;
    }
  }
  EXPECT_EQ(host->command("AT"), "\r\nOK\r\n");
  EXPECT_EQ(daemon->stop(), 0) << daemon->log();
  daemon.reset();
}

}  // namespace
}  // namespace vmodem::e2e
