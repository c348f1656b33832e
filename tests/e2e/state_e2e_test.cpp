// The state directory as other local users and other modules see it: its
// modes, a daemon killed with its port links, and directories a daemon
// cannot use.
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "e2e_support.hpp"
#include "process.hpp"

namespace vmodem::e2e {
namespace {

mode_t mode_of(const std::filesystem::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

std::string shell_quote(const std::string& text) {
  return "'" + text + "'";  // test paths never hold a quote
}

// The image holds the module's secrets (an AT+QICSGP password): nothing in
// the state directory is open to other users.
TEST(StateDir, OnlyItsOwnerCanReadTheStateDirectory) {
  Daemon daemon({"--at-trace"});
  Host host(daemon.port("ttyUSB2"));
  ASSERT_NE(host.read_until_booted().find("APP RDY"), std::string::npos) << daemon.log();
  EXPECT_NE(host.command("AT+QICSGP=1,1,\"apn\",\"user\",\"secret\",1").find("OK"),
            std::string::npos);
  const auto snapshot = daemon.state().parent_path() / "snapshot.img";
  EXPECT_FALSE(daemon.ctl("snapshot-save --path " + snapshot.string()).contains("error"));

  EXPECT_EQ(mode_of(daemon.state()), 0700U);
  EXPECT_EQ(mode_of(daemon.state() / "nand.img"), 0600U);
  EXPECT_EQ(mode_of(daemon.state() / "vmodem.log"), 0600U);
  EXPECT_EQ(mode_of(daemon.state() / "at-trace.log"), 0600U);
  EXPECT_EQ(mode_of(daemon.state() / "control.sock"), 0600U);
  EXPECT_EQ(mode_of(snapshot), 0600U);
}

// A state directory made by an earlier version (0755, image 0644) is
// tightened at the next start, and the log says so.
TEST(StateDir, AnExistingStateDirectoryIsTightenedAtStart) {
  Daemon daemon;
  ASSERT_TRUE(daemon.wait_booted()) << daemon.log();
  ASSERT_EQ(daemon.stop(), 0);
  std::filesystem::permissions(daemon.state(), std::filesystem::perms(0755));
  std::filesystem::permissions(daemon.state() / "nand.img", std::filesystem::perms(0644));
  std::filesystem::permissions(daemon.state() / "vmodem.log", std::filesystem::perms(0644));

  daemon.start();
  ASSERT_TRUE(daemon.wait_booted()) << daemon.log();
  EXPECT_EQ(mode_of(daemon.state()), 0700U);
  EXPECT_EQ(mode_of(daemon.state() / "nand.img"), 0600U);
  EXPECT_EQ(mode_of(daemon.state() / "vmodem.log"), 0600U);
  EXPECT_NE(daemon.log().find("nand.img was mode 0644, now 0600"), std::string::npos)
      << daemon.log();
}

// After kill -9 the links must not outlive the daemon: the kernel hands the
// dead daemon's /dev/pts/N to the next PTY, maybe another module's. The
// daemon's helper removes them at once; a host finds no port (ENOENT) and
// never reaches the other module.
TEST(StateDir, AKilledDaemonsLinksNeverLeadToAnotherModule) {
  Daemon a;
  {
    Host host(a.port("ttyUSB2"));
    ASSERT_NE(host.read_until_booted().find("APP RDY"), std::string::npos) << a.log();
  }
  ASSERT_TRUE(std::filesystem::is_symlink(a.port("ttyUSB2")));
  a.kill_hard(/*tidy_links=*/false);

  // Bounded wait for the event (the links vanishing), not a fixed sleep.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  auto gone = [&] {
    std::error_code ec;
    return !std::filesystem::is_symlink(std::filesystem::symlink_status(a.port("ttyUSB2"), ec)) &&
           !std::filesystem::is_symlink(std::filesystem::symlink_status(a.port("ttyUSB3"), ec));
  };
  while (!gone() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(2ms);
  EXPECT_TRUE(gone()) << "the killed daemon's links are still there";

  Daemon b({"--profile", "bg77"});
  Host host_b(b.port("ttyUSB2"));
  ASSERT_NE(host_b.read_until_booted().find("APP RDY"), std::string::npos) << b.log();
  const int fd = ::open(a.port("ttyUSB2").c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK);
  const int error = errno;
  if (fd >= 0) ::close(fd);
  EXPECT_LT(fd, 0) << "a stale link opened a live pty (module B's?)";
  EXPECT_EQ(error, ENOENT);
}

// Runs `vmodem run` on `state` as an unprivileged user (root writes
// anywhere): its exit code and output.
vmodem::testing::ProcessOutcome run_unprivileged(const std::filesystem::path& state) {
  const std::string as_user =
      ::geteuid() == 0 ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : "";
  return vmodem::testing::run_shell(as_user + vmodem_binary() +
                                    std::string(" run --once --state ") +
                                    shell_quote(state.string()) + " 2>&1");
}

bool can_drop_privileges() {
  return ::geteuid() != 0 ||
         vmodem::testing::run_shell("setpriv --version >/dev/null 2>&1").exit_code == 0;
}

// A state directory the daemon cannot use is refused with exit code 3 and a
// sentence naming it, before anything is created (it used to abort on the
// log file).
TEST(StateDir, AnUnusableStateDirectoryExitsThreeBeforeCreatingAnything) {
  if (!can_drop_privileges()) GTEST_SKIP() << "running as root without setpriv";
  vmodem::testing::TempDir dir;
  std::filesystem::permissions(dir.path(), std::filesystem::perms(0755));

  const auto read_only = dir.path() / "read-only";
  std::filesystem::create_directory(read_only);
  std::filesystem::permissions(read_only, std::filesystem::perms(0555));
  auto outcome = run_unprivileged(read_only);
  EXPECT_EQ(outcome.exit_code, 3) << outcome.out;
  EXPECT_NE(outcome.out.find("is not writable"), std::string::npos) << outcome.out;
  EXPECT_TRUE(std::filesystem::is_empty(read_only));

  const auto file = dir.path() / "a-file";
  std::ofstream(file) << "not a directory";
  outcome = run_unprivileged(file);
  EXPECT_EQ(outcome.exit_code, 3) << outcome.out;
  EXPECT_NE(outcome.out.find("exists and is not a directory"), std::string::npos) << outcome.out;

  outcome = run_unprivileged(read_only / "sub");
  EXPECT_EQ(outcome.exit_code, 3) << outcome.out;
  EXPECT_NE(outcome.out.find("cannot create state directory"), std::string::npos) << outcome.out;
  EXPECT_TRUE(std::filesystem::is_empty(read_only));
}

}  // namespace
}  // namespace vmodem::e2e
