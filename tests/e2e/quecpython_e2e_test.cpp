// QuecPython's per-file backup (seed 002) through the real binary, as a
// developer meets it: `vmodem image create --profile bg95-m3-quecpython --app
// DIR --backup`, `vmodem run` on that image, the application's files changed
// through the AT file commands (UFS is /usr) and `ctl inject`, a reset, and
// what the boot restored read back through FILE_RESTORED, `ctl status`,
// `ctl crc32` and AT+QFDWL; a power cut in the middle of the application's
// rewrite of a listed file. /bak refuses writes through the image tools, the
// control socket and FUSE (where /dev/fuse can be used).
#include <algorithm>
#include <cerrno>
#include <fstream>
#include <memory>
#include <thread>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <vmodem/fs/fuse.hpp>

#include "e2e_support.hpp"
#include "process.hpp"

namespace vmodem::e2e {
namespace {

using nlohmann::json;

const std::string kMain = "import utime\nprint('hello from /usr/main.py')\n";
const std::string kApn = R"({"apn": "iot.example"})";
const std::string kUtil = "def add(a, b):\n    return a + b\n";
const std::string kMainV2 = "import utime\nprint('hello from version 2')\n";
const std::string kAdded = "VERSION = 2\n";

class QuecPython : public ::testing::Test {
 protected:
  // Packs the application into a fresh image and runs the module on it.
  void start(const std::string& backup_flag = "--backup",
             const std::vector<std::string>& run_args = {}) {
    std::filesystem::create_directories(dir_ / "app" / "lib");
    std::ofstream(dir_ / "app" / "main.py") << kMain;
    std::ofstream(dir_ / "app" / "apn_cfg.json") << kApn;
    std::ofstream(dir_ / "app" / "lib" / "util.py") << kUtil;
    std::filesystem::create_directories(state());
    const auto made =
        vmodem::testing::run_shell(vmodem_binary() + " image create " + image().string() +
                                   " --profile bg95-m3-quecpython --seed 5 --app " +
                                   (dir_ / "app").string() + " " + backup_flag + " 2>&1");
    ASSERT_EQ(made.exit_code, 0) << made.out;
    daemon_ = std::make_unique<Daemon>(run_args, state());
    control_ = std::make_unique<Control>(state() / "control.sock");
    // Polled as the other e2e suites do: the socket exists once the daemon listens.
    for (int i = 0; i < 500 && !control_->connected(); ++i) {
      std::this_thread::sleep_for(10ms);
      control_ = std::make_unique<Control>(state() / "control.sock");
    }
    ASSERT_TRUE(control_->connected()) << daemon_->log();
    ASSERT_TRUE(control_->execute("subscribe").contains("return"));
    ASSERT_TRUE(daemon_->wait_booted()) << daemon_->log();
    // Replies follow the events sent before them on the connection: after
    // this one, every event of the first boot has been read (and dropped).
    ASSERT_TRUE(control_->execute("status").contains("return"));
    control_->events.clear();
    host_ = std::make_unique<Host>(daemon_->port("ttyUSB2"));
    host_->command("ATE0");
  }
  std::filesystem::path state() const { return dir_ / "state"; }
  std::filesystem::path image() const { return state() / "nand.img"; }

  // Replaces a file of /usr through AT+QFDEL + AT+QFUPL, as a host does.
  void upload(const std::string& name, const std::string& data) {
    host_->command("AT+QFDEL=\"" + name + "\"");
    host_->write("AT+QFUPL=\"" + name + "\"," + std::to_string(data.size()) + "\r");
    ASSERT_NE(host_->read_until("CONNECT\r\n").find("CONNECT"), std::string::npos);
    host_->write(data);
    ASSERT_NE(host_->read_until("OK\r\n", 5000ms).find("+QFUPL:"), std::string::npos);
  }
  std::string download(const std::string& name) {
    host_->write("AT+QFDWL=\"" + name + "\"\r");
    const auto got = host_->read_until("OK\r\n", 5000ms);
    const auto start = got.find("CONNECT\r\n");
    const auto end = got.find("\r\n+QFDWL: ");
    if (start == std::string::npos || end == std::string::npos) return "<" + got + ">";
    return got.substr(start + 9, end - start - 9);
  }
  // Resets the module (ctl reset) and returns what its boot restored,
  // "path (reason)" each, in order.
  std::vector<std::string> reset() {
    control_->events.clear();
    EXPECT_TRUE(control_->execute("reset").contains("return"));
    EXPECT_TRUE(control_->wait_event("POWER_STATE", "state", "app_rdy")) << daemon_->log();
    EXPECT_TRUE(daemon_->wait_booted()) << daemon_->log();
    std::vector<std::string> restored;
    for (const auto& event : control_->named("FILE_RESTORED")) {
      restored.push_back(event["data"]["path"].get<std::string>() + " (" +
                         event["data"]["reason"].get<std::string>() + ")");
    }
    const json status = daemon_->ctl("status");
    EXPECT_EQ(status.value("files_restored", -1), static_cast<int>(restored.size()))
        << status.dump();
    host_ = std::make_unique<Host>(daemon_->port("ttyUSB2"));
    boot_output_ = host_->read_until_booted();
    host_->command("ATE0");
    return restored;
  }

  // The application's next version (main.py changed, apn_cfg.json removed,
  // added.py added, lib/util.py changed) and its package, made by
  // `vmodem delta make --files` from the shipped tree. Returns the package.
  std::filesystem::path make_update() {
    const auto next = dir_ / "next";
    std::filesystem::create_directories(next / "lib");
    std::ofstream(next / "main.py") << kMainV2;
    std::ofstream(next / "added.py") << kAdded;
    std::ofstream(next / "lib" / "util.py") << kUtil << "def sub(a, b):\n    return a - b\n";
    const auto package = dir_ / "app-v2.vmapp";
    const auto made = vmodem::testing::run_shell(vmodem_binary() + " delta make --files " +
                                                 (dir_ / "app").string() + " " + next.string() +
                                                 " -o " + package.string() + " 2>&1");
    EXPECT_EQ(made.exit_code, 0) << made.out;
    EXPECT_NE(made.out.find("1 added, 2 changed, 1 removed"), std::string::npos) << made.out;
    return package;
  }

  // /usr as the update leaves it, through the AT file commands, and
  // checksum.json agreeing with ctl crc32 for every file it lists.
  void expect_updated() {
    EXPECT_EQ(download("main.py"), kMainV2);
    EXPECT_EQ(download("added.py"), kAdded);
    const std::string listing = host_->command("AT+QFLST=\"*\"");
    EXPECT_NE(listing.find("+QFLST: \"added.py\"," + std::to_string(kAdded.size())),
              std::string::npos)
        << listing;
    EXPECT_NE(listing.find("+QFLST: \"main.py\"," + std::to_string(kMainV2.size())),
              std::string::npos)
        << listing;
    EXPECT_EQ(listing.find("apn_cfg.json"), std::string::npos) << listing;
    EXPECT_EQ(listing.find(".app_fota"), std::string::npos) << "package or journal left";
    const json list = json::parse(download("checksum.json"), nullptr, false);
    ASSERT_TRUE(list.is_array()) << download("checksum.json");
    ASSERT_EQ(list.size(), 2u) << list.dump();  // main.py, lib/util.py
    for (const json& entry : list) {
      const json crc = daemon_->ctl("crc32 " + entry["name"].get<std::string>());
      EXPECT_EQ(crc.value("crc32", 0u), entry["crc32"].get<std::uint32_t>()) << entry.dump();
    }
  }

  std::string boot_output_;  // what the port printed during the last reset()'s boot

  vmodem::testing::TempDir dir_;
  std::unique_ptr<Daemon> daemon_;
  std::unique_ptr<Control> control_;
  std::unique_ptr<Host> host_;
};

using Restored = std::vector<std::string>;

TEST_F(QuecPython, TheSeedsThreeTriggersEachRestoreTheirFileAndNothingElse) {
  start();
  if (HasFatalFailure()) return;  // no daemon or no port to talk to
  // Trigger 1: checksum.json deleted from /usr.
  EXPECT_EQ(host_->command("AT+QFDEL=\"checksum.json\""), "\r\nOK\r\n");
  EXPECT_EQ(reset(), Restored{"/usr/checksum.json (checksum.json missing)"});
  // Trigger 2: a listed file corrupted (bits flipped in its data).
  const json injected =
      daemon_->ctl("inject --kind corrupt-file --file-system usr --path /main.py");
  ASSERT_EQ(injected.value("path", ""), "/main.py") << injected.dump();
  // Trigger 3: a listed file edited without updating checksum.json; and a
  // file of the user's own, never listed.
  upload("apn_cfg.json", R"({"apn": "edited.by.hand"})");
  upload("notes.txt", "the user's own file");
  EXPECT_EQ(reset(), (Restored{"/usr/apn_cfg.json (checksum)", "/usr/main.py (checksum)"}));
  EXPECT_EQ(download("main.py"), kMain);
  EXPECT_EQ(download("apn_cfg.json"), kApn);
  EXPECT_EQ(download("notes.txt"), "the user's own file");
  EXPECT_EQ(daemon_->ctl("status").value("files_restored_total", -1), 3);
  // Settled: the next boot finds nothing to do.
  EXPECT_EQ(reset(), Restored{});
}

// Trigger 2 by a power cut: the application rewrites a listed file (delete,
// then upload) and the power goes mid-write; the file system keeps no torn
// file, so the file is gone, and the boot brings it back.
TEST_F(QuecPython, APowerCutWhileTheApplicationRewritesAFileIsRepaired) {
  start();
  if (HasFatalFailure()) return;
  EXPECT_EQ(host_->command("AT+QFDEL=\"main.py\""), "\r\nOK\r\n");
  const json armed = daemon_->ctl("power-cut --partition usrfs --op program --nth 2");
  ASSERT_TRUE(armed.contains("armed")) << armed.dump();
  const std::string rewrite(8 * 1024, 'p');
  host_->write("AT+QFUPL=\"main.py\"," + std::to_string(rewrite.size()) + "\r");
  host_->read_until("CONNECT\r\n");
  host_->write(rewrite);
  EXPECT_TRUE(host_->hung_up(3000ms));
  ASSERT_TRUE(daemon_->wait_power("off")) << daemon_->log();
  control_->events.clear();
  ASSERT_TRUE(control_->execute("power-on").contains("return"));
  ASSERT_TRUE(control_->wait_event("POWER_STATE", "state", "app_rdy")) << daemon_->log();
  const auto restored = control_->named("FILE_RESTORED");
  ASSERT_EQ(restored.size(), 1u) << json(control_->events).dump();
  EXPECT_EQ(restored[0]["data"]["path"], "/usr/main.py");
  EXPECT_EQ(restored[0]["data"]["reason"], "missing");
  host_ = std::make_unique<Host>(daemon_->port("ttyUSB2"));
  host_->read_until_booted();
  host_->command("ATE0");
  EXPECT_EQ(download("main.py"), kMain);
}

TEST_F(QuecPython, ChecksumUpdateMakesAnIntendedEditSurviveTheNextBoot) {
  start();
  if (HasFatalFailure()) return;  // no daemon or no port to talk to
  const std::string edited = R"({"apn": "private.apn"})";
  upload("apn_cfg.json", edited);
  const json crc = daemon_->ctl("crc32 /usr/apn_cfg.json");
  ASSERT_TRUE(crc.contains("crc32")) << crc.dump();
  EXPECT_FALSE(crc.value("updated", true));
  const json updated = daemon_->ctl("checksum-update /usr/apn_cfg.json");
  EXPECT_EQ(updated.value("crc32", 0u), crc.value("crc32", 1u)) << updated.dump();
  EXPECT_TRUE(updated.value("updated", false));
  EXPECT_NE(download("checksum.json").find(std::to_string(crc.value("crc32", 0u))),
            std::string::npos);
  EXPECT_EQ(reset(), Restored{});
  EXPECT_EQ(download("apn_cfg.json"), edited);
  // Refused: an unlisted file, a name outside /usr, a file that is gone.
  upload("notes.txt", "mine");
  EXPECT_EQ(daemon_->ctl("checksum-update /usr/notes.txt").value("error", 0), 1);
  EXPECT_EQ(daemon_->ctl("checksum-update /bak/usr/main.py").value("error", 0), 1);
  EXPECT_EQ(daemon_->ctl("crc32 /usr/missing.py").value("error", 0), 1);
}

// The application update (app FOTA) as a developer does it: the package
// made from two trees, staged with ctl app-fota, applied by the next boot
// before the checksum guardian, which then restores nothing.
TEST_F(QuecPython, AnApplicationUpdateStagedWithCtlIsAppliedAtTheNextBoot) {
  start();
  if (HasFatalFailure()) return;  // no daemon or no port to talk to
  const auto package = make_update();
  const json staged = daemon_->ctl("app-fota " + package.string());
  ASSERT_EQ(staged.value("changed", 0), 2) << staged.dump();
  EXPECT_EQ(staged.value("added", 0), 1);
  EXPECT_EQ(staged.value("removed", 0), 1);
  EXPECT_EQ(reset(), Restored{});
  // The staging's APP_FOTA ("staged") may still be on its way when reset()
  // clears the events: the boot's is the one that says what happened.
  std::vector<std::string> states;
  for (const auto& event : control_->named("APP_FOTA"))
    states.push_back(event["data"]["state"].get<std::string>());
  EXPECT_EQ(states.back(), "applied") << json(control_->events).dump();
  EXPECT_EQ(std::count(states.begin(), states.end(), "applied"), 1);
  EXPECT_NE(boot_output_.find("APP RDY\r\n\r\n+QIND: \"FOTA\",\"END\",0\r\n"), std::string::npos)
      << boot_output_;
  const json status = daemon_->ctl("status");
  EXPECT_EQ(status.value("app_updates_total", 0), 1) << status.dump();
  EXPECT_EQ(status.value("last_app_update", ""), "applied");
  expect_updated();
  // Settled: the next boot applies and restores nothing.
  EXPECT_EQ(reset(), Restored{});
  EXPECT_TRUE(control_->named("APP_FOTA").empty()) << json(control_->events).dump();
  EXPECT_EQ(download("main.py"), kMainV2);
}

// The same package through AT+QFOTADL from the UFS: uploaded, staged, the
// module resets itself and applies it.
TEST_F(QuecPython, AnApplicationPackageInTheUfsIsAppliedThroughQfotadl) {
  start();
  if (HasFatalFailure()) return;  // no daemon or no port to talk to
  const auto package = make_update();
  std::ifstream in(package, std::ios::binary);
  upload("app-v2.vmapp", std::string(std::istreambuf_iterator<char>(in), {}));
  control_->events.clear();
  EXPECT_EQ(host_->command("AT+QFOTADL=\"UFS:app-v2.vmapp\""), "\r\nOK\r\n");
  ASSERT_TRUE(control_->wait_event("APP_FOTA", "state", "applied")) << daemon_->log();
  ASSERT_TRUE(control_->wait_event("POWER_STATE", "state", "app_rdy")) << daemon_->log();
  ASSERT_TRUE(daemon_->wait_booted()) << daemon_->log();
  EXPECT_TRUE(control_->named("FILE_RESTORED").empty());
  host_ = std::make_unique<Host>(daemon_->port("ttyUSB2"));
  const std::string booted = host_->read_until_booted();
  EXPECT_NE(booted.find("+QIND: \"FOTA\",\"END\",0"), std::string::npos) << booted;
  host_->command("ATE0");
  expect_updated();
}

// Hostile packages through ctl app-fota: refused with a message, nothing
// staged, /usr as it was.
TEST_F(QuecPython, ADamagedOrMismatchedApplicationPackageIsRefused) {
  start();
  if (HasFatalFailure()) return;  // no daemon or no port to talk to
  const auto package = make_update();
  const auto size = std::filesystem::file_size(package);
  const auto truncated = dir_ / "truncated.vmapp";
  std::filesystem::copy_file(package, truncated);
  std::filesystem::resize_file(truncated, size - 5);
  const json damaged = daemon_->ctl("app-fota " + truncated.string());
  EXPECT_EQ(damaged.value("error", 0), 1) << damaged.dump();
  // Made for other files: /usr's main.py is not the package's source.
  upload("main.py", "print('edited on the module')\n");
  const json other = daemon_->ctl("app-fota " + package.string());
  EXPECT_EQ(other.value("error", 0), 1) << other.dump();
  const auto info =
      vmodem::testing::run_shell(vmodem_binary() + " delta info " + truncated.string() + " 2>&1");
  EXPECT_EQ(info.exit_code, 4) << info.out;
  EXPECT_NE(info.out.find("checksum"), std::string::npos) << info.out;
  control_->events.clear();
  EXPECT_TRUE(control_->execute("reset").contains("return"));
  ASSERT_TRUE(control_->wait_event("POWER_STATE", "state", "app_rdy")) << daemon_->log();
  EXPECT_TRUE(control_->named("APP_FOTA").empty());
  EXPECT_EQ(daemon_->ctl("status").value("app_updates_total", -1), 0);
}

TEST_F(QuecPython, DisabledByBackupRestoreJsonTheBootRestoresNothing) {
  start("--backup-disabled");
  if (HasFatalFailure()) return;  // no daemon or no port to talk to
  // Off from the first boot on: checksum.json was never copied into /usr.
  EXPECT_NE(host_->command("AT+QFLST=\"checksum.json\"").find("ERROR"), std::string::npos);
  upload("main.py", "print('edited')\n");
  EXPECT_EQ(host_->command("AT+QFDEL=\"apn_cfg.json\""), "\r\nOK\r\n");
  EXPECT_EQ(reset(), Restored{});
  EXPECT_EQ(download("main.py"), "print('edited')\n");
  EXPECT_NE(host_->command("AT+QFLST=\"apn_cfg.json\"").find("ERROR"), std::string::npos)
      << "not restored";
}

TEST_F(QuecPython, BakRefusesWritesOnEveryPath) {
  start();
  if (HasFatalFailure()) return;  // no daemon or no port to talk to
  const std::string vm = vmodem_binary();
  const std::string img = image().string();
  daemon_->stop();  // the image tools want the image to themselves
  for (const std::string& tool :
       {" image put " + img + " bak " + (dir_ / "app" / "main.py").string() + " /x.py",
        " image rm " + img + " bak /usr/main.py", " image mkdir " + img + " bak /d",
        " image format " + img + " bak --yes"}) {
    const auto refused = vmodem::testing::run_shell(vm + tool + " 2>&1");
    EXPECT_NE(refused.exit_code, 0) << tool;
    EXPECT_NE(refused.out.find("read-only"), std::string::npos) << tool << ": " << refused.out;
  }
  // Reading it is fine, and it still holds what was shipped.
  const auto cat = vmodem::testing::run_shell(vm + " image cat " + img + " bak /usr/main.py");
  EXPECT_EQ(cat.exit_code, 0);
  EXPECT_EQ(cat.out, kMain);
  // The control socket's corrupt-file is refused too (bit flips into the
  // partition are how to damage /bak).
  daemon_->start();
  ASSERT_TRUE(daemon_->wait_booted()) << daemon_->log();
  EXPECT_EQ(daemon_->ctl("inject --kind corrupt-file --file-system bak --path /usr/main.py")
                .value("error", 0),
            1);
}

TEST_F(QuecPython, BakIsReadOnlyThroughTheMount) {
  std::string why;
  if (!fs::fuse_available(&why)) GTEST_SKIP() << "FUSE unavailable: " << why;
  vmodem::testing::TempDir mnt;
  start("--backup", {"--mount", mnt.path().string()});
  if (HasFatalFailure()) return;  // no daemon or no port to talk to
  const auto bak = mnt.path() / "bak";
  {
    // Closed before the daemon stops: a file the host keeps open holds the
    // lazy unmount, and the daemon's shutdown waits for it.
    std::ifstream shipped(bak / "usr" / "main.py");
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(shipped), {}), kMain);
  }
  const int fd = ::open((bak / "usr" / "new.py").c_str(), O_WRONLY | O_CREAT, 0644);
  EXPECT_EQ(fd, -1);
  EXPECT_EQ(errno, EROFS);
  if (fd >= 0) ::close(fd);
  EXPECT_EQ(::unlink((bak / "usr" / "main.py").c_str()), -1);
  EXPECT_EQ(errno, EROFS);
  // /usr is the application's to change.
  std::ofstream(mnt.path() / "usr" / "notes.txt") << "through FUSE";
  EXPECT_EQ(download("notes.txt"), "through FUSE");
  daemon_->stop();  // orderly: the mounts go
}

}  // namespace
}  // namespace vmodem::e2e
