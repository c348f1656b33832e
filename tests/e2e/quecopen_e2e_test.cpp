// EC25 (QuecOpen, seed 001) on a running module, through the real binary:
// `ctl app-sync` runs the application sync by hand ("run the script
// directly") after the host removed the backup's tag over AT, and `ctl
// fastboot-erase` erases a partition of the running module (test method 3):
// it goes off, stays off, and its next boot formats the partition and
// refills it from the other side. With `run --boot-script` the user's own
// script does the sync at every boot and for `ctl app-sync`, its cp and rm
// real operations on the module's partitions (a power cut strikes them);
// one that hangs is killed at the profile's timeout.
#include <fstream>
#include <iterator>
#include <memory>
#include <thread>

#include <gtest/gtest.h>
#include <unistd.h>

#include <vmodem/fs/fuse.hpp>

#include "e2e_support.hpp"
#include "process.hpp"

namespace vmodem::e2e {
namespace {

const std::string kApp(12000, 'q');

class QuecOpen : public ::testing::Test {
 protected:
  // A module made once, and an application installed into system with the
  // image tools, as a developer flashes one; then `vmodem run` on it.
  // The module's partitions are at mnt()/system and mnt()/usrdata
  // (run --mount): the host reads and changes them there while it runs.
  void start(std::vector<std::string> run_args = {}) {
    std::string why;
    if (!vmodem::fs::fuse_available(&why)) GTEST_SKIP() << "no FUSE here: " << why;
    run_args.insert(run_args.end(), {"--mount", mnt().string()});
    std::filesystem::create_directories(state());
    ASSERT_EQ(shell("run --once --profile ec25 --seed 5 --state " + state().string()).exit_code, 0);
    write_file(dir_.path() / "app.bin", kApp);
    write_file(dir_.path() / "ver.txt", "4\n");
    ASSERT_EQ(image("mkdir", "/usrapp /usrapp/apprun /usrapp/apprun/apps").exit_code, 0);
    ASSERT_EQ(
        image("put", (dir_.path() / "app.bin").string() + " /usrapp/apprun/apps/app.bin").exit_code,
        0);
    ASSERT_EQ(
        image("put", (dir_.path() / "ver.txt").string() + " /usrapp/apprun/app_ver.txt").exit_code,
        0);

    daemon_ = std::make_unique<Daemon>(run_args, state());
    control_ = std::make_unique<Control>(state() / "control.sock");
    for (int i = 0; i < 500 && !control_->connected(); ++i) {
      std::this_thread::sleep_for(10ms);  // polled: the socket exists once the daemon listens
      control_ = std::make_unique<Control>(state() / "control.sock");
    }
    ASSERT_TRUE(control_->connected()) << daemon_->log();
    ASSERT_TRUE(control_->execute("subscribe").contains("return"));
    ASSERT_TRUE(daemon_->wait_booted()) << daemon_->log();
    host_ = std::make_unique<Host>(daemon_->port("ttyUSB2"));
    host_->command("ATE0");
  }
  // Orderly, as a developer stops it: the mounts are taken away and a boot
  // script still running is killed with its private mount directory.
  void TearDown() override {
    if (daemon_ && daemon_->running()) {
      EXPECT_EQ(daemon_->stop(), 0) << daemon_->log();
    }
    EXPECT_FALSE(std::filesystem::exists(mnt() / "system" / "usrapp"))
        << "the system partition is still mounted after the daemon stopped";
  }
  std::filesystem::path state() const { return dir_.path() / "state"; }
  std::filesystem::path mnt() const { return dir_.path() / "mnt"; }
  std::filesystem::path backup() const { return mnt() / "usrdata" / "appbackup"; }
  static std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }
  static vmodem::testing::ProcessOutcome shell(const std::string& args) {
    return vmodem::testing::run_shell(vmodem_binary() + " " + args + " 2>&1");
  }
  vmodem::testing::ProcessOutcome image(const std::string& sub, const std::string& rest) {
    return shell("image " + sub + " " + (state() / "nand.img").string() + " system " + rest);
  }
  static void write_file(const std::filesystem::path& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
  }
  nlohmann::json execute(const std::string& command,
                         nlohmann::json args = nlohmann::json::object()) {
    return control_->execute(command, std::move(args));
  }

  vmodem::testing::TempDir dir_;
  std::unique_ptr<Daemon> daemon_;
  std::unique_ptr<Control> control_;
  std::unique_ptr<Host> host_;
};

TEST_F(QuecOpen, AppSyncByHandRefillsTheBackupTheHostEmptied) {
  start();
  ASSERT_FALSE(HasFatalFailure());
  // The first boot backed the application up into usr_data.
  EXPECT_NE(daemon_->log().find("app sync: to_backup (system version 4, backup version -1)"),
            std::string::npos)
      << daemon_->log();
  EXPECT_EQ(read_file(backup() / "app_ver.txt"), "4\n");

  const auto in_step = execute("app-sync");
  ASSERT_TRUE(in_step.contains("return")) << in_step;
  EXPECT_EQ(in_step["return"]["outcome"], "in_step");
  EXPECT_EQ(in_step["return"]["files"], 0);

  // The host deletes the backup (its tag missing, it counts as version -1)
  // and runs the sync by hand: the application is copied over again.
  std::filesystem::remove_all(backup());
  const auto synced = execute("app-sync");
  ASSERT_TRUE(synced.contains("return")) << synced;
  EXPECT_EQ(synced["return"]["outcome"], "to_backup");
  EXPECT_EQ(synced["return"]["system_version"], 4);
  EXPECT_EQ(synced["return"]["backup_version"], -1);
  EXPECT_EQ(synced["return"]["files"], 1);
  EXPECT_EQ(synced["return"]["bytes"], kApp.size());
  EXPECT_TRUE(control_->wait_event("APP_SYNC", "outcome", "to_backup"));
  EXPECT_EQ(read_file(backup() / "app_ver.txt"), "4\n");
  EXPECT_EQ(read_file(backup() / "apps" / "app.bin"), kApp);
}

TEST_F(QuecOpen, FastbootEraseOfTheRunningModuleKeepsItOffUntilPowerOn) {
  start();
  ASSERT_FALSE(HasFatalFailure());
  const auto unknown = execute("fastboot-erase", {{"partition", "no_such"}});
  EXPECT_EQ(unknown["error"]["class"], "InvalidParameter") << unknown;
  EXPECT_EQ(daemon_->ctl("status")["power"], "app_rdy") << "a refused erase leaves it running";

  control_->events.clear();
  const auto erased = execute("fastboot-erase", {{"partition", "usr_data"}});
  ASSERT_TRUE(erased.contains("return")) << erased;
  EXPECT_EQ(erased["return"]["partition"], "usr_data");
  EXPECT_GT(erased["return"]["erased_blocks"], 0);
  EXPECT_EQ(erased["return"]["was_on"], true);
  EXPECT_EQ(daemon_->ctl("status")["power"], "off");
  EXPECT_TRUE(host_->hung_up()) << "the ports go with the module";
  EXPECT_EQ(execute("app-sync")["error"]["class"], "DeviceNotActive");

  // The next boot finds no UBI in usr_data, formats it and refills it.
  ASSERT_TRUE(execute("power-on").contains("return"));
  ASSERT_TRUE(daemon_->wait_booted()) << daemon_->log();
  EXPECT_TRUE(control_->wait_event("FS_FORMATTED", "partition", "usr_data")) << daemon_->log();
  EXPECT_TRUE(control_->wait_event("APP_SYNC", "outcome", "to_backup"));
  EXPECT_EQ(read_file(backup() / "app_ver.txt"), "4\n");
  EXPECT_EQ(read_file(backup() / "apps" / "app.bin"), kApp);
}

// A block of usr_data that fails a program while the host writes a file:
// UBI retires it (marks it bad), takes another from its pool, writes the
// LEB there, and the file reads back whole — before and after a power
// cycle. The partition steps over a marked block from then on, so UBI's
// next attach finds one PEB fewer, none of them bad.
TEST_F(QuecOpen, ABlockOfUsrDataThatFailsAProgramIsReplacedAndTheFileKeepsItsData) {
  start();
  ASSERT_FALSE(HasFatalFailure());
  const auto ubi_pebs = [&] {
    const auto info =
        shell("image ubi-info " + (state() / "nand.img").string() + " usr_data --json");
    EXPECT_EQ(info.exit_code, 0) << info.out;
    return nlohmann::json::parse(info.out, nullptr, false)["pebs"];
  };
  const auto before = ubi_pebs();  // the module idle after its boot
  const auto armed = execute(
      "inject",
      {{"kind", "rule"},
       {"rule", {{"effect", "program_fail"}, {"ops", {"program"}}, {"partition", "usr_data"}}}});
  ASSERT_TRUE(armed.contains("return")) << armed;

  std::string content;
  for (int i = 0; content.size() < 300000; ++i)
    content += "line " + std::to_string(i) + " of a file a block fails under\n";
  write_file(mnt() / "usrdata" / "big.txt", content);
  EXPECT_TRUE(execute("faults")["return"]["faults"].empty()) << "the program_fail fired";
  EXPECT_EQ(read_file(mnt() / "usrdata" / "big.txt"), content);

  // Off: the image as the module left it, read with the offline tool.
  ASSERT_TRUE(execute("power-off").contains("return"));
  const auto after = ubi_pebs();
  EXPECT_EQ(after["total"], before["total"].get<int>() - 1) << after;
  EXPECT_EQ(after["bad"], 0) << after;

  ASSERT_TRUE(execute("power-on").contains("return"));
  ASSERT_TRUE(daemon_->wait_booted()) << daemon_->log();
  EXPECT_EQ(read_file(mnt() / "usrdata" / "big.txt"), content);
}

// A Linux-based module takes a FOTA package by its absolute path in its
// Linux tree: UFS is /usrdata, so a file the host uploaded is found there.
TEST_F(QuecOpen, QfotadlTakesAPackageByItsLinuxPath) {
  start();
  ASSERT_FALSE(HasFatalFailure());
  host_->command("AT+CMEE=1");
  EXPECT_EQ(host_->command("AT+QFOTADL=\"/usrdata/none.bin\""), "\r\n+CME ERROR: 405\r\n");
  EXPECT_EQ(host_->command("AT+QFOTADL=\"/usrdata/../etc/passwd\""), "\r\nERROR\r\n");
  const std::string package(300, 'p');
  host_->write("AT+QFUPL=\"pkg.bin\",300\r");
  ASSERT_NE(host_->read_until("CONNECT\r\n").find("CONNECT"), std::string::npos);
  host_->write(package);
  ASSERT_NE(host_->read_until("OK\r\n").find("+QFUPL: 300"), std::string::npos);
  EXPECT_EQ(host_->command("AT+QFOTADL=\"/usrdata/pkg.bin\""), "\r\nOK\r\n");
  // Found and taken: the module resets into the update, which refuses a
  // package that is none and ends with an error code.
  EXPECT_TRUE(host_->hung_up(5000ms));
  Host again(daemon_->port("ttyUSB2"), 10000ms);
  const std::string seen = again.read_until("+QIND: \"FOTA\",\"END\",", 10000ms);
  EXPECT_NE(seen.find("+QIND: \"FOTA\",\"START\""), std::string::npos) << seen;
  EXPECT_NE(seen.find("+QIND: \"FOTA\",\"END\","), std::string::npos) << seen;
}

// The seed's logic in a test script of our own: the side with the higher
// version tag (a missing tag counts as -1) is copied over the other — old
// tree and tag removed, tree copied, sync, tag copied, sync.
const std::string kSyncScript = R"sh(#!/bin/sh
sys=/usrapp/apprun; bak=/usrdata/appbackup
version() { if [ -f "$1" ]; then cat "$1"; else echo -1; fi; }
copy_side() {
  rm -rf "$2/apps" "$2/app_ver.txt"; mkdir -p "$2"
  cp -r "$1/apps" "$2/apps"; sync
  cp "$1/app_ver.txt" "$2/app_ver.txt"; sync
}
s=$(version $sys/app_ver.txt); b=$(version $bak/app_ver.txt)
echo "versions: system $s backup $b"
if [ "$s" -gt "$b" ]; then copy_side $sys $bak; echo "backed up"
elif [ "$b" -gt "$s" ]; then copy_side $bak $sys; echo "restored"
fi
)sh";

class QuecOpenScript : public QuecOpen {
 protected:
  void SetUp() override {
    std::string why;
    if (::geteuid() != 0) GTEST_SKIP() << "boot scripts need root (a private mount namespace)";
    if (!vmodem::fs::fuse_available(&why)) GTEST_SKIP() << "no FUSE here: " << why;
    write_file(dir_.path() / "sync.sh", kSyncScript);
  }
  std::string script() const { return (dir_.path() / "sync.sh").string(); }
};

TEST_F(QuecOpenScript, TheUsersScriptBacksUpAtBootAndByHand) {
  start({"--boot-script", script()});
  ASSERT_FALSE(HasFatalFailure());
  // The first boot ran the script, not the built-in sync.
  EXPECT_EQ(daemon_->log().find("app sync:"), std::string::npos) << daemon_->log();
  EXPECT_NE(daemon_->log().find("boot script: versions: system 4 backup -1"), std::string::npos)
      << daemon_->log();
  EXPECT_NE(daemon_->log().find("boot script (boot): exit code 0"), std::string::npos);
  EXPECT_EQ(read_file(backup() / "apps" / "app.bin"), kApp);

  // Run by hand after the host removed the backup's tag: the reply comes
  // when the script has ended.
  std::filesystem::remove(backup() / "app_ver.txt");
  const auto by_hand = execute("app-sync");
  ASSERT_TRUE(by_hand.contains("return")) << by_hand << daemon_->log();
  EXPECT_EQ(by_hand["return"]["outcome"], "script");
  EXPECT_EQ(by_hand["return"]["exit_code"], 0);
  EXPECT_EQ(read_file(backup() / "app_ver.txt"), "4\n");
}

// A power cut at a NAND program of usr_data while the script copies the
// application into it: the script dies with the module, and the next boot's
// run of the same script (the backup's tag never written) copies it again.
TEST_F(QuecOpenScript, APowerCutStrikesTheScriptsCopyAndTheNextBootRedoesIt) {
  start({"--boot-script", script()});
  ASSERT_FALSE(HasFatalFailure());
  // The host empties the backup; the next boot's script refills it.
  std::filesystem::remove_all(backup());
  ASSERT_TRUE(execute("power-off").contains("return"));
  const auto armed =
      execute("power-cut", {{"partition", "usr_data"}, {"nth", 4}, {"op", {"program"}}});
  ASSERT_TRUE(armed.contains("return")) << armed;
  ASSERT_TRUE(execute("power-on").contains("return"));
  ASSERT_TRUE(daemon_->wait_power("off", 10000ms)) << daemon_->log();
  EXPECT_NE(daemon_->log().find("boot script killed"), std::string::npos) << daemon_->log();

  control_->events.clear();
  ASSERT_TRUE(execute("power-on").contains("return"));
  ASSERT_TRUE(daemon_->wait_booted(10000ms)) << daemon_->log();
  EXPECT_TRUE(control_->wait_event("BOOT_SCRIPT", "exit_code", 0)) << daemon_->log();
  EXPECT_EQ(read_file(backup() / "app_ver.txt"), "4\n");
  EXPECT_EQ(read_file(backup() / "apps" / "app.bin"), kApp);
}

TEST_F(QuecOpenScript, AScriptThatHangsIsKilledAtTheTimeoutAndTheBootGoesOn) {
  std::ifstream in(std::string(VMODEM_CONFIGS) + "/ec25.json");
  auto profile = nlohmann::json::parse(in);
  write_file(dir_.path() / "hang.sh", "echo waiting\nsleep 60\n");
  profile["app_sync"]["boot_script"] = (dir_.path() / "hang.sh").string();
  profile["app_sync"]["boot_script_timeout_ms"] = 300;
  write_file(dir_.path() / "ec25-hang.json", profile.dump(2));
  Daemon daemon({"--profile", (dir_.path() / "ec25-hang.json").string()});
  ASSERT_TRUE(daemon.wait_booted(15000ms)) << daemon.log();
  EXPECT_NE(daemon.log().find("boot script: waiting"), std::string::npos) << daemon.log();
  EXPECT_NE(daemon.log().find("boot script (boot): killed at the timeout"), std::string::npos)
      << daemon.log();
}

}  // namespace
}  // namespace vmodem::e2e
