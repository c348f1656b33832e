// Boot probe points through the real binary (SPEC §4): two of the twenty
// cases tests/simulator_module/probe_points_test.cpp runs in-process, here
// end to end — the control socket (power cuts, snapshots, backup-info), the
// AT port, and damage done by the offline image tools on a NAND snapshot
// taken with the module off:
//
//   a file kept.txt is put in the file system and backed up (AT+QPRTPARA=1/11);
//   then kept.txt is deleted, after.bin created, and the file system damaged
//   (`vmodem image inject --uncorrectable` on the modem FS's superblock:
//   probe 1; `vmodem image rm` of the AP FS's boot-critical file: probe 7);
//   the next power-on must restore the file system from its backup: one
//   RESTORE event naming the probe point, exactly that probe counter +1 in
//   AT+QPRTPARA=4/=14 (nothing else moved on either file system), kept.txt
//   back and after.bin gone.
#include <array>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include <vmodem/fs/filesystem.hpp>
#include <vmodem/fs/placement.hpp>
#include <vmodem/simulator/flash.hpp>
#include <vmodem/simulator/profile.hpp>

#include "bytes.hpp"
#include "e2e_support.hpp"
#include "process.hpp"

namespace vmodem::e2e {
namespace {

using nlohmann::json;
using vmodem::testing::bytes_of;
using vmodem::testing::pattern;

// A NAND image opened in this process (the module off, the daemon not
// touching it): the file system of one partition, its page map, raw cells.
class Image {
 public:
  Image(const std::filesystem::path& path, const std::string& partition) {
    auto profile = sim::load_profile("bg95-m3");
    if (!profile) return;
    auto flash = sim::Flash::open(*profile, path, sim::Flash::Mode::open_existing, sim::Seeds{0});
    if (!flash) {
      error = flash.error();
      return;
    }
    flash_ = std::move(*flash);
    auto part = flash_->partition(partition);
    if (!part) {
      error = part.error().message();
      return;
    }
    partition_ = std::move(*part);
  }
  bool ok() const { return partition_ != nullptr; }
  std::string error;

  nand::Partition& partition() { return *partition_; }
  fs::Result<fs::Placement> map() { return fs::map_pages(*partition_, config_); }
  fs::Result<std::unique_ptr<fs::FileSystem>> mount(bool read_only = false) {
    fs::MountOptions options;
    options.read_only = read_only;
    return fs::FileSystem::mount(*partition_, config_, options);
  }

 private:
  fs::Config config_;
  std::unique_ptr<sim::Flash> flash_;
  std::unique_ptr<nand::Partition> partition_;
};

struct Case {
  std::string name;
  std::string fs;  // "modem" or "ap"
  int probe;
};

std::string partition_of(const std::string& fs) {
  return fs == "ap" ? "usrfs" : "efs2";
}
std::string critical_file(const std::string& fs) {
  return fs == "ap" ? "/usb/vid_pid" : "/nv/rfcal/gsm_2.bin";
}

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.name;
}

struct ProbePointE2e : ::testing::TestWithParam<Case> {
  ProbePointE2e() : control(std::make_unique<Control>(daemon.state() / "control.sock")) {}

  const Case& c() const { return GetParam(); }
  std::string part() const { return partition_of(c().fs); }
  std::filesystem::path snapshot() const { return daemon.state() / "probe-snapshot.img"; }

  bool ctl_ok(const json& reply) { return reply.contains("return"); }
  void wait_control() {
    for (int i = 0; i < 500 && !control->connected(); ++i) {
      std::this_thread::sleep_for(10ms);
      control = std::make_unique<Control>(daemon.state() / "control.sock");
    }
    ASSERT_TRUE(control->connected());
  }
  // Power on through the control socket and wait for APP RDY.
  void power_on_and_wait() {
    control->events.clear();
    ASSERT_TRUE(ctl_ok(control->execute("power-on")));
    ASSERT_TRUE(control->wait_event("POWER_STATE", "state", "app_rdy")) << daemon.log();
  }
  void power_cut() {
    control->events.clear();
    ASSERT_TRUE(ctl_ok(control->execute("power-cut")));
    ASSERT_TRUE(control->wait_event("POWER_STATE", "state", "off"));
  }
  // The whole NAND to the snapshot file or back: 270 MB, which a vmodem
  // built with ThreadSanitizer on a loaded CI machine copies in well over
  // the usual ten seconds.
  void copy_nand(const std::string& command) {
    const auto reply = control->execute(command, {{"path", snapshot().string()}}, 120s);
    ASSERT_TRUE(ctl_ok(reply)) << command << ": " << reply.dump();
  }
  // Module off: the NAND to a file, changed by `edit`, and back.
  void edit_offline(const std::function<void()>& edit) {
    copy_nand("snapshot-save");
    edit();
    copy_nand("snapshot-load");
  }
  std::string vmodem(const std::string& args) {
    const auto [code, out] = vmodem::testing::run_shell(vmodem_binary() + " " + args + " 2>&1");
    EXPECT_EQ(code, 0) << args << "\n" << out;
    return out;
  }
  std::string image_args(const std::string& what) {
    return "image " + what + " " + snapshot().string();
  }
  RestoreCounters counters_of(const std::string& which) {
    const auto reply = control->execute("backup-info", {{"file-system", which}});
    return restore_counters(reply.value("return", json::object()));
  }

  void setup_backup();
  void damage();
  void verify_files();

  Daemon daemon;
  std::unique_ptr<Control> control;
};

// kept.txt in the backup; the production-line backup is replaced by one
// that holds it.
void ProbePointE2e::setup_backup() {
  power_cut();
  edit_offline([&] {
    Image image(snapshot(), part());
    ASSERT_TRUE(image.ok()) << image.error;
    auto fs = image.mount();
    ASSERT_TRUE(fs) << fs.error().message();
    ASSERT_TRUE((*fs)->write_file("/kept.txt", bytes_of("kept by the backup")));
  });
  power_on_and_wait();
  Host host(daemon.port("ttyUSB2"));
  ASSERT_NE(host.read_until_booted().find("APP RDY"), std::string::npos);
  host.command("ATE0");
  const std::string backup = c().fs == "ap" ? "AT+QPRTPARA=11" : "AT+QPRTPARA=1";
  ASSERT_EQ(host.command(backup, 5000ms), "\r\nOK\r\n");
}

void ProbePointE2e::damage() {
  const std::string p = part();
  const std::string file = critical_file(c().fs);
  power_cut();
  // `vmodem image` commands run once this process has closed the image.
  std::vector<std::string> commands;
  auto offline = [&] {
    {
      Image image(snapshot(), p);
      ASSERT_TRUE(image.ok()) << image.error;
      auto fs = image.mount();
      ASSERT_TRUE(fs) << fs.error().message();
      ASSERT_TRUE((*fs)->unlink("/kept.txt"));
      // Large enough to fill whole blocks with its data alone.
      ASSERT_TRUE((*fs)->write_file("/after.bin", pattern(300 * 1024, 7)));
    }
    Image image(snapshot(), p);
    ASSERT_TRUE(image.ok()) << image.error;
    auto map = image.map();
    ASSERT_TRUE(map) << map.error().message();
    auto in = [&](std::uint32_t b, std::uint32_t pg) {
      return " " + std::to_string(b) + " " + std::to_string(pg) + " --partition " + p;
    };
    switch (c().probe) {
      case 1:  // the superblock page unreadable (uncorrectable ECC)
        commands.push_back(image_args("inject") + in(map->superblock_block, map->superblock_page) +
                           " --uncorrectable");
        break;
      case 7:  // a boot-critical file deleted
        commands.push_back(image_args("rm") + " " + p + " " + file);
        break;
      default:
        FAIL() << "probe " << c().probe << " is provoked in-process only";
    }
  };
  edit_offline([&] {
    offline();
    for (const auto& command : commands)
      vmodem(command);
  });
}

void ProbePointE2e::verify_files() {
  copy_nand("snapshot-save");
  Image image(snapshot(), part());
  ASSERT_TRUE(image.ok()) << image.error;
  auto fs = image.mount(true);
  ASSERT_TRUE(fs) << fs.error().message();
  auto kept = (*fs)->read_file("/kept.txt");
  ASSERT_TRUE(kept) << "the deleted file is back";
  EXPECT_EQ(*kept, bytes_of("kept by the backup"));
  EXPECT_FALSE((*fs)->stat("/after.bin")) << "the file created after the backup is gone";
}

TEST_P(ProbePointE2e, RestoresAndCountsItsOwnProbePoint) {
  wait_control();
  ASSERT_TRUE(ctl_ok(control->execute("subscribe")));
  const auto status = control->execute("status");
  if (status["return"].value("power", "") != "app_rdy") {
    ASSERT_TRUE(control->wait_event("POWER_STATE", "state", "app_rdy")) << daemon.log();
  }
  setup_backup();
  if (HasFatalFailure()) return;
  const RestoreCounters modem_before = counters_of("modem"), ap_before = counters_of("ap");

  damage();
  if (HasFatalFailure()) return;
  power_on_and_wait();

  const auto restores = control->named("RESTORE");
  ASSERT_EQ(restores.size(), 1U) << json(control->events).dump() << daemon.log();
  EXPECT_EQ(restores[0]["data"]["file_system"], c().fs);
  EXPECT_EQ(restores[0]["data"]["probe_point"], c().probe) << restores[0].dump();
  EXPECT_TRUE(control->named("FS_REBUILT").empty());

  RestoreCounters modem_want = modem_before, ap_want = ap_before;
  RestoreCounters& want = c().fs == "ap" ? ap_want : modem_want;
  want.restores += 1;
  want.probes[c().probe - 1] += 1;
  Host host(daemon.port("ttyUSB2"));
  ASSERT_NE(host.read_until_booted().find("APP RDY"), std::string::npos);
  host.command("ATE0");
  EXPECT_EQ(modem_restore_counters(host.command("AT+QPRTPARA=4")), modem_want)
      << "AT+QPRTPARA=4: only the modem FS's probe " << c().probe << " counter moves";
  EXPECT_EQ(ap_restore_counters(host.command("AT+QPRTPARA=14")), ap_want)
      << "AT+QPRTPARA=14: only the AP FS's probe " << c().probe << " counter moves";
  EXPECT_EQ(counters_of("modem"), modem_want);
  EXPECT_EQ(counters_of("ap"), ap_want);
  verify_files();
}

std::vector<Case> cases() {
  return {{"modem_p1", "modem", 1}, {"ap_p7", "ap", 7}};
}

INSTANTIATE_TEST_SUITE_P(Smoke, ProbePointE2e, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& p) { return p.param.name; });

}  // namespace
}  // namespace vmodem::e2e
