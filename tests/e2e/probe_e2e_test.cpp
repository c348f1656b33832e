// Boot probe points 1-10 (SPEC §4) provoked on purpose through the running
// module, for the modem FS (efs2) and the AP FS (usrfs). Each case:
//
//   a file kept.txt is put in the file system and backed up (AT+QPRTPARA=1/11);
//   then kept.txt is deleted, after.bin created, and the file system damaged
//   the way the probe point describes — offline, on a snapshot of the NAND
//   taken with the module off (the `vmodem image` tools, or a cell-level edit
//   the ECC cannot see), through the control socket (corrupt-file), or by
//   power cuts during boot (probe 10);
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

#include "e2e_support.hpp"
#include "process.hpp"

namespace vmodem::e2e {
namespace {

using nlohmann::json;

std::vector<std::uint8_t> bytes_of(const std::string& text) {
  return {text.begin(), text.end()};
}

std::vector<std::uint8_t> pattern(std::size_t n, std::uint32_t seed) {
  std::vector<std::uint8_t> out(n);
  std::uint32_t x = seed * 2654435761U + 1;
  for (auto& b : out) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    b = static_cast<std::uint8_t>(x);
  }
  return out;
}

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
  // Rewrites cells behind the ECC's back: a page that reads cleanly with
  // wrong bytes — what a miscorrection or a corrupted program leaves, which
  // the NAND model's ECC (it never miscorrects) cannot produce by itself.
  void set_cells(std::uint32_t block, std::uint32_t page, std::uint32_t offset,
                 std::span<const std::uint8_t> bytes) {
    flash_->storage().set_cells({partition_->physical_block(block), page}, offset, bytes);
  }
  std::uint32_t page_size() const { return partition_->geometry().page_size; }
  std::uint32_t physical(std::uint32_t block) const { return partition_->physical_block(block); }
  std::uint32_t block_count() const { return partition_->geometry().block_count; }

 private:
  fs::Config config_;
  std::unique_ptr<sim::Flash> flash_;
  std::unique_ptr<nand::Partition> partition_;
};

struct Counters {
  long restores = 0;
  std::array<long, 10> probes{};
  bool operator==(const Counters&) const = default;
};

// =4: backup_cnt, restore_cnt, page_cnt, p1..p10, bad, [0]
Counters modem_counters(const std::vector<long>& f) {
  Counters c;
  if (f.size() < 14) return c;
  c.restores = f[1];
  for (int i = 0; i < 10; ++i)
    c.probes[i] = f[3 + i];
  return c;
}
// =14: valid, backup_cnt, restore_cnt, p1..p10, page_cnt, ...
Counters ap_counters(const std::vector<long>& f) {
  Counters c;
  if (f.size() < 19) return c;
  c.restores = f[2];
  for (int i = 0; i < 10; ++i)
    c.probes[i] = f[3 + i];
  return c;
}
Counters from_ctl(const json& info) {
  Counters c;
  if (!info.contains("restore_count")) return c;
  c.restores = info["restore_count"].get<long>();
  for (int i = 0; i < 10; ++i)
    c.probes[i] = info["probe_counts"][i].get<long>();
  return c;
}

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

struct ProbePoint : ::testing::TestWithParam<Case> {
  ProbePoint() : control(std::make_unique<Control>(daemon.state() / "control.sock")) {}

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
  // Module off: the NAND to a file, changed by `edit`, and back.
  void edit_offline(const std::function<void()>& edit) {
    ASSERT_TRUE(ctl_ok(control->execute("snapshot-save", {{"path", snapshot().string()}})));
    edit();
    ASSERT_TRUE(ctl_ok(control->execute("snapshot-load", {{"path", snapshot().string()}})));
  }
  std::string vmodem(const std::string& args) {
    const auto [code, out] =
        vmodem::testing::run_shell(std::string(VMODEM_BINARY) + " " + args + " 2>&1");
    EXPECT_EQ(code, 0) << args << "\n" << out;
    return out;
  }
  std::string image_args(const std::string& what) {
    return "image " + what + " " + snapshot().string();
  }
  Counters counters_of(const std::string& which) {
    const auto reply = control->execute("backup-info", {{"file-system", which}});
    return from_ctl(reply.value("return", json::object()));
  }

  void setup_backup();
  void damage();
  void verify_files();

  Daemon daemon;
  std::unique_ptr<Control> control;
};

// kept.txt in the backup; the production-line backup is replaced by one
// that holds it.
void ProbePoint::setup_backup() {
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
  ASSERT_NE(host.read_until("APP RDY\r\n").find("APP RDY"), std::string::npos);
  host.command("ATE0");
  const std::string backup = c().fs == "ap" ? "AT+QPRTPARA=11" : "AT+QPRTPARA=1";
  ASSERT_EQ(host.command(backup, 5000ms), "\r\nOK\r\n");
}

void ProbePoint::damage() {
  const std::string p = part();
  const std::string file = critical_file(c().fs);
  if (c().probe == 8) {
    // A boot-critical file rewritten with wrong bytes while the module runs.
    const auto done = control->execute(
        "inject", {{"kind", "corrupt-file"}, {"file-system", c().fs}, {"path", file}});
    ASSERT_TRUE(ctl_ok(done)) << done.dump();
  }
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
    const auto& blocks = map->blocks;
    auto in = [&](std::uint32_t b, std::uint32_t pg) {
      return " " + std::to_string(b) + " " + std::to_string(pg) + " --partition " + p;
    };
    // Physical block numbers: a partition's logical numbering skips bad
    // blocks, so it shifts as soon as one more is marked.
    auto mark_bad = [&](Image& im, std::uint32_t b) {
      return image_args("mark-bad") + " " + std::to_string(im.physical(b));
    };
    // A live page that is not the last one written in its block (a torn
    // tail is explained by design and never fails a check).
    auto pick = [&](auto&& wanted) -> std::pair<std::uint32_t, std::uint32_t> {
      for (const auto& b : blocks) {
        for (const auto& lp : b.live) {
          if (lp.page + 1 < b.written && wanted(lp)) return {b.block, lp.page};
        }
      }
      ADD_FAILURE() << "no page found";
      return {0, 0};
    };
    switch (c().probe) {
      case 1:  // the superblock page unreadable (uncorrectable ECC)
        commands.push_back(image_args("inject") + in(map->superblock_block, map->superblock_page) +
                           " --uncorrectable");
        break;
      case 2: {  // the superblock reads cleanly but fails its checksum
        const std::uint8_t junk = 0x00;
        image.set_cells(map->superblock_block, map->superblock_page, 12, {&junk, 1});
        break;
      }
      case 3: {  // a file's object header unreadable (uncorrectable ECC)
        const auto [b, pg] = pick([](const fs::LivePage& lp) {
          return lp.role == fs::PageRole::header && !lp.directory;
        });
        commands.push_back(image_args("inject") + in(b, pg) + " --uncorrectable");
        break;
      }
      case 4: {  // a page inside the log whose tags fail their checksum
        const auto [b, pg] = pick([](const fs::LivePage& lp) {
          return lp.role == fs::PageRole::data && lp.path == "/after.bin";
        });
        const std::uint8_t junk[4] = {0x12, 0x34, 0x56, 0x78};
        image.set_cells(b, pg, image.page_size() + 20, junk);
        break;
      }
      case 5: {  // a directory's block lost: its files are orphans
        bool done = false;
        for (const auto& b : blocks) {
          bool dir = false, super = false;
          for (const auto& lp : b.live) {
            dir |= lp.role == fs::PageRole::header && lp.directory;
            super |= lp.role == fs::PageRole::superblock;
          }
          if (dir && !super) {
            commands.push_back(mark_bad(image, b.block));
            done = true;
            break;
          }
        }
        ASSERT_TRUE(done) << "no block with a directory header";
        break;
      }
      case 6: {  // a block of file data lost: the file is shorter than its length
        bool done = false;
        for (const auto& b : blocks) {
          if (b.live.empty()) continue;
          const bool data_only = std::all_of(
              b.live.begin(), b.live.end(), [](auto& lp) { return lp.role == fs::PageRole::data; });
          if (data_only) {
            commands.push_back(mark_bad(image, b.block));
            done = true;
            break;
          }
        }
        ASSERT_TRUE(done) << "no block holding only file data";
        break;
      }
      case 7:  // a boot-critical file deleted
        commands.push_back(image_args("rm") + " " + p + " " + file);
        break;
      case 8:  // done above, through the control socket
        break;
      case 9: {  // full, and the blocks it kept free went bad: no erased block left
        {
          auto fs = image.mount();
          ASSERT_TRUE(fs) << fs.error().message();
          for (int i = 0; i < 200; ++i) {
            const std::size_t size = i < 100 ? 256 * 1024 : 4096;
            if (!(*fs)->write_file("/fill" + std::to_string(i), pattern(size, i))) {
              if (size == 4096) break;
              i = 99;
            }
          }
        }
        auto full = image.map();
        ASSERT_TRUE(full) << full.error().message();
        std::uint32_t marked = 0, bad = 0;
        for (const auto& b : full->blocks) {
          if (b.bad) {
            ++bad;
          } else if (b.live.empty()) {
            commands.push_back(mark_bad(image, b.block));
            ++marked;
          }
        }
        ASSERT_GT(marked, 0U);
        // Under the bad-block limit (20%): the probe fails for want of space alone.
        ASSERT_LT((bad + marked) * 100, 20U * image.block_count()) << marked << " + " << bad;
        break;
      }
      default:
        break;
    }
  };
  edit_offline([&] {
    offline();
    for (const auto& command : commands)
      vmodem(command);
  });
  if (c().probe == 10) {
    // Three boots that never complete: the power goes while the file system
    // is being mounted, each time (its 100th read: past the bad-block scan
    // of the partition, one read per block, into the mount's tag scan).
    for (int boot = 0; boot < 3; ++boot) {
      const auto armed = control->execute(
          "power-cut", {{"partition", p}, {"op", json::array({"read"})}, {"nth", 100}});
      ASSERT_TRUE(ctl_ok(armed)) << armed.dump();
      control->events.clear();
      ASSERT_TRUE(ctl_ok(control->execute("power-on")));
      ASSERT_TRUE(control->wait_event("POWER_STATE", "state", "off")) << daemon.log();
      ASSERT_FALSE(control->named("NAND_FAULT").empty()) << "the cut struck during the boot";
    }
  }
}

void ProbePoint::verify_files() {
  ASSERT_TRUE(ctl_ok(control->execute("snapshot-save", {{"path", snapshot().string()}})));
  Image image(snapshot(), part());
  ASSERT_TRUE(image.ok()) << image.error;
  auto fs = image.mount(true);
  ASSERT_TRUE(fs) << fs.error().message();
  auto kept = (*fs)->read_file("/kept.txt");
  ASSERT_TRUE(kept) << "the deleted file is back";
  EXPECT_EQ(*kept, bytes_of("kept by the backup"));
  EXPECT_FALSE((*fs)->stat("/after.bin")) << "the file created after the backup is gone";
}

TEST_P(ProbePoint, RestoresAndCountsItsOwnProbePoint) {
  wait_control();
  ASSERT_TRUE(ctl_ok(control->execute("subscribe")));
  const auto status = control->execute("status");
  if (status["return"].value("power", "") != "app_rdy") {
    ASSERT_TRUE(control->wait_event("POWER_STATE", "state", "app_rdy")) << daemon.log();
  }
  setup_backup();
  if (HasFatalFailure()) return;
  const Counters modem_before = counters_of("modem"), ap_before = counters_of("ap");

  damage();
  if (HasFatalFailure()) return;
  power_on_and_wait();

  const auto restores = control->named("RESTORE");
  ASSERT_EQ(restores.size(), 1U) << json(control->events).dump() << daemon.log();
  EXPECT_EQ(restores[0]["data"]["file_system"], c().fs);
  EXPECT_EQ(restores[0]["data"]["probe_point"], c().probe) << restores[0].dump();
  EXPECT_TRUE(control->named("FS_REBUILT").empty());

  Counters modem_want = modem_before, ap_want = ap_before;
  Counters& want = c().fs == "ap" ? ap_want : modem_want;
  want.restores += 1;
  want.probes[c().probe - 1] += 1;
  Host host(daemon.port("ttyUSB2"));
  ASSERT_NE(host.read_until("APP RDY\r\n").find("APP RDY"), std::string::npos);
  host.command("ATE0");
  EXPECT_EQ(modem_counters(qprtpara_fields(host.command("AT+QPRTPARA=4"))), modem_want)
      << "AT+QPRTPARA=4: only the modem FS's probe " << c().probe << " counter moves";
  EXPECT_EQ(ap_counters(qprtpara_fields(host.command("AT+QPRTPARA=14"))), ap_want)
      << "AT+QPRTPARA=14: only the AP FS's probe " << c().probe << " counter moves";
  EXPECT_EQ(counters_of("modem"), modem_want);
  EXPECT_EQ(counters_of("ap"), ap_want);
  verify_files();
}

// A backup taken after a boot-critical file went bad cannot cure probe 8:
// the restored tree fails the same check, the restore is not counted, and
// the module refills the file system with its factory content (FS_REBUILT).
TEST(ProbeFallback, BackupHoldingABadCriticalFileFallsBackToFactoryContent) {
  Daemon daemon;
  std::unique_ptr<Control> control;
  for (int i = 0; i < 500 && !(control && control->connected()); ++i) {
    std::this_thread::sleep_for(10ms);
    control = std::make_unique<Control>(daemon.state() / "control.sock");
  }
  ASSERT_TRUE(control->connected());
  ASSERT_TRUE(control->execute("subscribe").contains("return"));
  if (control->execute("status")["return"].value("power", "") != "app_rdy") {
    ASSERT_TRUE(control->wait_event("POWER_STATE", "state", "app_rdy"));
  }
  const auto corrupted = control->execute(
      "inject", {{"kind", "corrupt-file"}, {"file-system", "ap"}, {"path", "/usb/vid_pid"}});
  ASSERT_TRUE(corrupted.contains("return")) << corrupted.dump();
  {
    Host host(daemon.port("ttyUSB2"));
    host.command("ATE0");
    ASSERT_EQ(host.command("AT+QPRTPARA=11", 5000ms), "\r\nOK\r\n");
  }
  const auto before = from_ctl(control->execute("backup-info", {{"file-system", "ap"}})["return"]);
  ASSERT_TRUE(control->execute("power-cut").contains("return"));
  ASSERT_TRUE(control->wait_event("POWER_STATE", "state", "off"));
  control->events.clear();
  ASSERT_TRUE(control->execute("power-on").contains("return"));
  ASSERT_TRUE(control->wait_event("POWER_STATE", "state", "app_rdy")) << daemon.log();
  EXPECT_TRUE(control->named("RESTORE").empty());
  const auto rebuilt = control->named("FS_REBUILT");
  ASSERT_EQ(rebuilt.size(), 1U) << json(control->events).dump();
  EXPECT_EQ(rebuilt[0]["data"]["file_system"], "ap");
  EXPECT_EQ(rebuilt[0]["data"]["probe_point"], 8);
  EXPECT_EQ(from_ctl(control->execute("backup-info", {{"file-system", "ap"}})["return"]), before)
      << "a restore that did not cure the file system is not counted";
  const auto snapshot = daemon.state() / "fallback.img";
  ASSERT_TRUE(control->execute("snapshot-save", {{"path", snapshot.string()}}).contains("return"));
  Image image(snapshot, "usrfs");
  ASSERT_TRUE(image.ok()) << image.error;
  auto fs = image.mount(true);
  ASSERT_TRUE(fs) << fs.error().message();
  EXPECT_EQ((*fs)->read_file("/usb/vid_pid").value_or(std::vector<std::uint8_t>{}),
            bytes_of("2c7c:0700\n"))
      << "the factory content is back";
}

std::vector<Case> cases() {
  std::vector<Case> out;
  for (const char* fs : {"modem", "ap"}) {
    for (int probe = 1; probe <= 10; ++probe)
      out.push_back({std::string(fs) + "_p" + std::to_string(probe), fs, probe});
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(BothFileSystems, ProbePoint, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& p) { return p.param.name; });

}  // namespace
}  // namespace vmodem::e2e
