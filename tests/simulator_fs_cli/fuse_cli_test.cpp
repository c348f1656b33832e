// FUSE through the real binary: `vmodem mount` in the foreground of a child
// process, and `vmodem run --mount` with the module's live file systems,
// used with ordinary shell tools. Skipped with the reason where FUSE is
// unavailable.
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <sstream>

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <vmodem/fs/fuse.hpp>

#include "cli_support.hpp"
#include "e2e_support.hpp"
#include "temp_dir.hpp"

extern char** environ;

namespace vmodem::fscli {
namespace {

using namespace std::chrono_literals;

#define SKIP_WITHOUT_FUSE()                                         \
  do {                                                              \
    std::string why;                                                \
    if (!fs::fuse_available(&why)) GTEST_SKIP() << "FUSE: " << why; \
  } while (false)

// Lazily unmounts whatever a failed test left mounted, so the temporary
// directory can be removed.
void force_unmount(const std::filesystem::path& dir) {
  (void)shell("fusermount3 -u -z " + dir.string() + " 2>/dev/null");
}

// `vmodem ARGS...` in the background, its output in `log` for failure messages.
pid_t spawn_vmodem(std::vector<std::string> args, const std::filesystem::path& log) {
  args.insert(args.begin(), VMODEM_BINARY);
  return e2e::spawn_logged(std::move(args), log);
}

int wait_exit(pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(FuseMount, ShellToolsThroughTheMountPoint) {
  SKIP_WITHOUT_FUSE();
  vmodem::testing::TempDir dir;
  const auto image = make_image(dir / "state").string();
  const auto mnt = dir / "mnt";
  std::filesystem::create_directories(mnt);
  const pid_t pid = spawn_vmodem({"mount", image, "ap", mnt.string()}, dir / "mount.log");
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(wait_mounted(mnt)) << read_host_file(dir / "mount.log");

  const std::string m = mnt.string();
  const auto ops =
      shell("set -e; echo hello > " + m + "/hello.txt; cp " + m + "/usb/vid_pid " + m +
            "/vp.copy; mv " + m + "/hello.txt " + m + "/greeting.txt; rm " + m +
            "/usb/composition; mkdir " + m + "/d; cat " + m + "/greeting.txt; ls " + m + " 2>&1");
  EXPECT_EQ(ops.exit_code, 0) << ops.out;
  EXPECT_EQ(ops.out, "hello\nd\netc\ngreeting.txt\nlwm2m\nusb\nvp.copy\n");
  // Times: a file written now is dated now (the host's clock, offline),
  // the factory files by the production line (2024-01-01).
  const auto stamp = shell("stat -c %Y " + m + "/greeting.txt " + m + "/usb/vid_pid");
  std::istringstream stamps(stamp.out);
  long long written = 0, factory = 0;
  stamps >> written >> factory;
  EXPECT_LT(std::llabs(written - static_cast<long long>(std::time(nullptr))), 3600) << stamp.out;
  EXPECT_EQ(factory, 1704067200) << stamp.out;

  EXPECT_EQ(shell("fusermount3 -u " + m).exit_code, 0);
  EXPECT_EQ(wait_exit(pid), 0) << read_host_file(dir / "mount.log");
  force_unmount(mnt);

  // Everything reached the image.
  EXPECT_EQ(vmodem("image cat " + image + " ap /greeting.txt", false).out, "hello\n");
  EXPECT_EQ(vmodem("image cat " + image + " ap /vp.copy", false).out,
            vmodem("image cat " + image + " ap /usb/vid_pid", false).out);
  EXPECT_EQ(vmodem("image cat " + image + " ap /usb/composition").exit_code, 5);
  // The structure is sound; the next boot would fail probe 7 without the
  // removed USB configuration, and fsck says so.
  EXPECT_EQ(vmodem("image fsck " + image + " ap --no-critical").exit_code, 0);
  const auto fsck = vmodem("image fsck " + image + " ap");
  EXPECT_EQ(fsck.exit_code, 1);
  EXPECT_NE(fsck.out.find("probe 7 critical_missing"), std::string::npos) << fsck.out;
  EXPECT_NE(fsck.out.find("/usb/composition"), std::string::npos) << fsck.out;
}

TEST(FuseMount, ReadOnlyRefusesWrites) {
  SKIP_WITHOUT_FUSE();
  vmodem::testing::TempDir dir;
  const auto image = make_image(dir / "state").string();
  const auto mnt = dir / "mnt";
  std::filesystem::create_directories(mnt);
  const pid_t pid =
      spawn_vmodem({"mount", image, "modem", mnt.string(), "--read-only"}, dir / "mount.log");
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(wait_mounted(mnt)) << read_host_file(dir / "mount.log");
  EXPECT_NE(shell("echo x > " + mnt.string() + "/x 2>/dev/null").exit_code, 0);
  EXPECT_EQ(shell("ls " + mnt.string()).exit_code, 0);
  ::kill(pid, SIGINT);  // Ctrl-C ends it too
  EXPECT_EQ(wait_exit(pid), 0) << read_host_file(dir / "mount.log");
  force_unmount(mnt);
  EXPECT_TRUE(wait_mounted(mnt, false));
}

TEST(FuseMount, UnavailableFacilityOrBadDirectory) {
  vmodem::testing::TempDir dir;
  const auto image = make_image(dir / "state").string();
  // A mount point that does not exist is a usage error either way.
  EXPECT_EQ(vmodem("mount " + image + " ap " + (dir / "nope").string()).exit_code, 2);
}

class RunMount : public ::testing::Test {
 protected:
  RunMount() : daemon({"--mount", mounts().string()}) {}
  ~RunMount() override {
    force_unmount(mounts() / "ufs");
    force_unmount(mounts() / "efs");
  }
  std::filesystem::path mounts() const { return dir.path() / "live"; }
  vmodem::testing::TempDir dir;
  e2e::Daemon daemon;
};

TEST_F(RunMount, HostAndAtCommandsSeeTheSameFiles) {
  SKIP_WITHOUT_FUSE();
  ASSERT_TRUE(daemon.wait_power("app_rdy", 10000ms)) << daemon.log();
  const auto ufs = mounts() / "ufs";
  ASSERT_TRUE(wait_mounted(ufs)) << daemon.log();
  ASSERT_TRUE(wait_mounted(mounts() / "efs")) << daemon.log();
  EXPECT_TRUE(std::filesystem::exists(mounts() / "efs" / "nv"));

  // Host -> module.
  write_host_file(ufs / "fromhost.txt", "via fuse");
  e2e::Host host(daemon.port("ttyUSB2"));
  ASSERT_TRUE(host.is_open());
  const auto listed = host.command("AT+QFLST=\"fromhost.txt\"");
  EXPECT_NE(listed.find("+QFLST: \"fromhost.txt\",8"), std::string::npos) << listed;

  // Module -> host, dated by the module's clock (AT+CCLK sets it).
  EXPECT_NE(host.command("AT+CCLK=\"30/01/02,03:04:05+00\"").find("OK"), std::string::npos);
  host.write("AT+QFUPL=\"fromat.txt\",5\r");
  ASSERT_NE(host.read_until("CONNECT\r\n").find("CONNECT"), std::string::npos);
  host.write("12345");
  ASSERT_NE(host.read_until("OK\r\n", 5000ms).find("+QFUPL: 5"), std::string::npos);
  EXPECT_EQ(read_host_file(ufs / "fromat.txt"), "12345");
  const auto mtime = std::filesystem::last_write_time(ufs / "fromat.txt");
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::file_clock::to_sys(mtime).time_since_epoch())
                           .count();
  EXPECT_NEAR(static_cast<double>(seconds), 1893553445.0, 5.0) << "2030-01-02 03:04:05 UTC";

  // A reset unmounts; the next boot mounts again, files still there.
  EXPECT_NE(host.command("AT+CFUN=1,1").find("OK"), std::string::npos);
  EXPECT_TRUE(host.hung_up());
  ASSERT_TRUE(daemon.wait_power("app_rdy", 10000ms)) << daemon.log();
  ASSERT_TRUE(wait_mounted(ufs)) << daemon.log();
  EXPECT_EQ(read_host_file(ufs / "fromhost.txt"), "via fuse");

  // A power cut unmounts at once; power-on mounts again.
  EXPECT_FALSE(daemon.ctl("power-cut").contains("error")) << daemon.log();
  EXPECT_TRUE(wait_mounted(ufs, false)) << daemon.log();
  EXPECT_FALSE(daemon.ctl("power-on").contains("error")) << daemon.log();
  ASSERT_TRUE(daemon.wait_power("app_rdy", 10000ms)) << daemon.log();
  ASSERT_TRUE(wait_mounted(ufs)) << daemon.log();
  EXPECT_EQ(read_host_file(ufs / "fromat.txt"), "12345");

  // An orderly exit unmounts.
  EXPECT_EQ(daemon.stop(), 0) << daemon.log();
  EXPECT_TRUE(wait_mounted(ufs, false));
}

// The EC25: `run --mount DIR` serves the two UBI file systems as
// DIR/system and DIR/usrdata, the application backup under the second, and
// usr_data is the UFS the AT file commands use.
class Ec25RunMount : public ::testing::Test {
 protected:
  Ec25RunMount() : daemon({"--profile", "ec25", "--mount", mounts().string()}) {}
  ~Ec25RunMount() override {
    for (const char* sub : {"system", "usrdata", "efs"})
      force_unmount(mounts() / sub);
  }
  std::filesystem::path mounts() const { return dir.path() / "live"; }
  vmodem::testing::TempDir dir;
  e2e::Daemon daemon;
};

TEST_F(Ec25RunMount, SystemAndUsrdataAreServedAndUsrdataIsTheUfs) {
  SKIP_WITHOUT_FUSE();
  ASSERT_TRUE(daemon.wait_booted()) << daemon.log();
  ASSERT_TRUE(wait_mounted(mounts() / "system")) << daemon.log();
  ASSERT_TRUE(wait_mounted(mounts() / "usrdata")) << daemon.log();
  std::filesystem::create_directories(mounts() / "system" / "usrapp" / "apprun" / "apps");
  write_host_file(mounts() / "system" / "usrapp" / "apprun" / "apps" / "app.bin", "app");
  EXPECT_EQ(read_host_file(mounts() / "system" / "usrapp" / "apprun" / "apps" / "app.bin"), "app");
  write_host_file(mounts() / "usrdata" / "cert.pem", "cert");
  e2e::Host host(daemon.port("ttyUSB2"));
  ASSERT_TRUE(host.is_open());
  const auto listed = host.command("AT+QFLST=\"cert.pem\"");
  EXPECT_NE(listed.find("+QFLST: \"cert.pem\",4"), std::string::npos) << listed;
}

}  // namespace
}  // namespace vmodem::fscli
