// Power cuts during AT+QPRTPARA=1 through the real module: the `vmodem`
// binary, its AT port and its control socket. The control socket arms a cut
// at the nth operation in the modem FS's backup data partition (a seeded
// sample of the operations one =1 does there; VMODEM_TEST_SEED replays);
// after each cut the module is powered on again and must reach APP RDY, with
// AT+QPRTPARA=4 and `ctl backup-info` saying what happened (real mode: the
// backup may be invalid and uncounted; safe mode: the previous one stays
// valid), and a later =1 must succeed. The exhaustive campaigns, in-process
// through the same boot code, are tests/simulator_backup.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "e2e_support.hpp"
#include "test_seed.hpp"

namespace vmodem::e2e {
namespace {

constexpr int kCuts = 4;  // per mode

// Operations of the modem FS's backup data partition so far.
long data_partition_ops(const Daemon& daemon) {
  const auto stats = daemon.ctl("stats");
  for (const auto& p : stats["partitions"]) {
    if (p["name"] == "efs2_bak")
      return p["reads"].get<long>() + p["programs"].get<long>() + p["erases"].get<long>();
  }
  return -1;
}

struct CutModule {
  explicit CutModule(const std::string& mode) : daemon(args(mode)) { connect(); }
  std::vector<std::string> args(const std::string& mode) {
    const auto path = dir.path() / "profile.json";
    std::ifstream in(std::filesystem::path(VMODEM_CONFIGS) / "bg95-m3.json");
    auto profile = nlohmann::json::parse(in);
    profile["backup"] = {{"power_loss_mode", mode}};
    std::ofstream(path) << profile.dump(2);
    return {"--profile", path.string()};
  }
  void connect() {
    host = std::make_unique<Host>(daemon.port("ttyUSB2"));
    ASSERT_NE(host->read_until("APP RDY\r\n").find("APP RDY"), std::string::npos) << daemon.log();
    host->command("ATE0");
  }
  std::vector<long> modem_info() { return qprtpara_fields(host->command("AT+QPRTPARA=4")); }
  nlohmann::json backup_info() { return daemon.ctl("backup-info --file-system modem"); }

  vmodem::testing::TempDir dir;
  Daemon daemon;
  std::unique_ptr<Host> host;
};

void cut_campaign(const std::string& mode) {
  const std::uint64_t seed = vmodem::testing::test_seed(5);
  CutModule m(mode);
  // A setting saved in the modem FS after the production-line backup, backed up.
  EXPECT_EQ(m.host->command("AT+CTZU=1"), "\r\nOK\r\n");
  EXPECT_EQ(m.host->command("AT+QPRTPARA=1", 5000ms), "\r\nOK\r\n");
  const long before = data_partition_ops(m.daemon);
  EXPECT_EQ(m.host->command("AT+QPRTPARA=1", 5000ms), "\r\nOK\r\n");
  const long ops = data_partition_ops(m.daemon) - before;
  ASSERT_GT(ops, 4) << "an uncut =1 works in the data partition";

  std::srand(static_cast<unsigned>(seed));
  std::set<long> points;
  while (static_cast<int>(points.size()) < kCuts)
    points.insert(1 + std::rand() % ops);
  int invalid = 0, old_kept = 0, new_done = 0;
  for (const long n : points) {
    SCOPED_TRACE("cut at data-partition operation " + std::to_string(n) + " of " +
                 std::to_string(ops));
    const auto counters = m.modem_info();
    ASSERT_EQ(counters.size(), 15U);
    const long count = counters[0];
    const auto armed = m.daemon.ctl("power-cut --partition efs2_bak --nth " + std::to_string(n));
    ASSERT_FALSE(armed.contains("error")) << armed.dump();
    m.host->write("AT+QPRTPARA=1\r");
    ASSERT_TRUE(m.host->hung_up(5000ms)) << "the module lost power mid-backup";
    ASSERT_TRUE(m.daemon.wait_power("off"));
    ASSERT_FALSE(m.daemon.ctl("power-on").contains("error"));
    m.host.reset();
    m.connect();  // APP RDY again
    const auto after = m.modem_info();
    ASSERT_EQ(after.size(), 15U);
    EXPECT_EQ(after[1], 0) << "restore_cnt: nothing was restored";
    for (int p = 3; p < 13; ++p)
      EXPECT_EQ(after[p], 0) << "p" << p - 2;
    const auto info = m.backup_info();
    ASSERT_TRUE(info.contains("backup_valid")) << info.dump();
    if (!info["backup_valid"].get<bool>()) {
      EXPECT_EQ(mode, "real") << "safe mode keeps the previous backup valid";
      EXPECT_EQ(after[0], count) << "an interrupted backup is not counted";
      ++invalid;
    } else if (after[0] == count) {
      ++old_kept;
    } else {
      EXPECT_EQ(after[0], count + 1);
      ++new_done;
    }
    // Backing up again always works.
    EXPECT_EQ(m.host->command("AT+QPRTPARA=1", 5000ms), "\r\nOK\r\n");
    const auto again = m.modem_info();
    ASSERT_EQ(again.size(), 15U);
    EXPECT_EQ(again[0], after[0] + 1);
    EXPECT_TRUE(m.backup_info()["backup_valid"].get<bool>());
  }
  std::printf(
      "%s mode, %d cuts in %ld data-partition ops of =1: invalid %d, old backup %d, new %d\n",
      mode.c_str(), kCuts, ops, invalid, old_kept, new_done);
}

TEST(BackupCutE2e, PowerCutsDuringModemBackupRealMode) {
  cut_campaign("real");
}
TEST(BackupCutE2e, PowerCutsDuringModemBackupSafeMode) {
  cut_campaign("safe");
}

}  // namespace
}  // namespace vmodem::e2e
