// Power cuts during AT+QPRTPARA=1 through the real module: the `vmodem`
// binary, its AT port and its control socket. The control socket arms a cut
// at the nth operation in the modem FS's backup data partition (a seeded
// sample of the operations one =1 does there, planned and tallied by the
// campaign engine; VMODEM_TEST_SEED replays);
// after each cut the module is powered on again and must reach APP RDY, with
// AT+QPRTPARA=4 and `ctl backup-info` saying what happened (real mode: the
// backup may be invalid and uncounted; safe mode: the previous one stays
// valid), and a later =1 must succeed. The exhaustive campaigns, in-process
// through the same boot code, are tests/simulator_backup.
#include <cstdio>
#include <fstream>
#include <memory>

#include <gtest/gtest.h>

#include <vmodem/nand/campaign.hpp>

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
    ASSERT_NE(host->read_until_booted().find("APP RDY"), std::string::npos) << daemon.log();
    host->command("ATE0");
  }
  std::vector<long> modem_info() { return qprtpara_fields(host->command("AT+QPRTPARA=4")); }
  nlohmann::json backup_info() { return daemon.ctl("backup-info --file-system modem"); }

  vmodem::testing::TempDir dir;
  Daemon daemon;
  std::unique_ptr<Host> host;
};

// AT+QPRTPARA=1 under cuts armed through the control socket (campaign
// engine, nand/campaign.hpp). Nothing is rolled back between cuts: each
// starts from the module the last verdict left, running, APP RDY.
class BackupCutCase : public nand::campaign::Case {
 public:
  BackupCutCase(CutModule& m, std::string mode) : m_(m), mode_(std::move(mode)) {}

  void rewind() override {
    const auto counters = m_.modem_info();
    count_ = counters.size() == 15U ? counters[0] : -1;
    start_ops_ = data_partition_ops(m_.daemon);
  }
  void arm(const nand::campaign::CutPoint& point) override {
    armed_ =
        m_.daemon.ctl("power-cut --partition efs2_bak --nth " + std::to_string(point.operation) +
                      " --mode " + std::string(nand::to_string(point.mode)));
  }
  bool act() override {
    if (armed_.contains("error")) return false;
    armed_ = nlohmann::json::object();
    m_.host->write("AT+QPRTPARA=1\r");
    const std::string answer = m_.host->read_until("OK\r\n", 5000ms);
    if (answer.find("OK") != std::string::npos) return false;
    // The module lost power mid-backup: the port hangs up, the module is off.
    return m_.host->hung_up(5000ms) && m_.daemon.wait_power("off");
  }
  std::uint64_t operations() override {
    return static_cast<std::uint64_t>(data_partition_ops(m_.daemon) - start_ops_);
  }
  nand::campaign::Verdict verify(const nand::campaign::CutPoint& point) override;

 private:
  CutModule& m_;
  std::string mode_;
  nlohmann::json armed_ = nlohmann::json::object();
  long count_ = -1;     // backup_cnt before the action
  long start_ops_ = 0;  // data-partition operations before the action
};

nand::campaign::Verdict BackupCutCase::verify(const nand::campaign::CutPoint& point) {
  using nand::campaign::Verdict;
  const std::string at = "cut at data-partition operation " + point.id();
  if (m_.daemon.ctl("power-on").contains("error")) return Verdict::fail("no power-on", at);
  m_.host.reset();
  m_.connect();  // APP RDY again
  const auto after = m_.modem_info();
  if (after.size() != 15U) return Verdict::fail("AT+QPRTPARA=4", at + ": no answer");
  if (after[1] != 0) return Verdict::fail("restored", at + ": restore_cnt moved");
  for (int p = 3; p < 13; ++p) {
    if (after[p] != 0) return Verdict::fail("probe counted", at + ": p" + std::to_string(p - 2));
  }
  const auto info = m_.backup_info();
  if (!info.contains("backup_valid")) return Verdict::fail("backup-info", at + info.dump());
  std::string outcome;
  if (!info["backup_valid"].get<bool>()) {
    if (mode_ != "real") return Verdict::fail("safe mode lost its backup", at);
    if (after[0] != count_) return Verdict::fail("interrupted backup counted", at);
    outcome = "backup invalid";
  } else if (after[0] == count_) {
    outcome = "old backup valid";
  } else if (after[0] == count_ + 1) {
    outcome = "new backup valid";
  } else {
    return Verdict::fail("backup count", at + ": " + std::to_string(after[0]));
  }
  // Backing up again always works.
  if (m_.host->command("AT+QPRTPARA=1", 5000ms) != "\r\nOK\r\n")
    return Verdict::fail(outcome + ", then =1 failed", at);
  const auto again = m_.modem_info();
  if (again.size() != 15U || again[0] != after[0] + 1 ||
      !m_.backup_info()["backup_valid"].get<bool>())
    return Verdict::fail(outcome + ", then =1 not counted", at);
  return Verdict::pass(outcome);
}

void cut_campaign(const std::string& mode) {
  CutModule m(mode);
  // A setting saved in the modem FS after the production-line backup, backed up.
  EXPECT_EQ(m.host->command("AT+CTZU=1"), "\r\nOK\r\n");
  EXPECT_EQ(m.host->command("AT+QPRTPARA=1", 5000ms), "\r\nOK\r\n");
  BackupCutCase backup(m, mode);
  nand::campaign::Plan plan;
  plan.sample = kCuts;
  plan.seed = vmodem::testing::test_seed(5);
  const auto result = nand::campaign::run(backup, plan);
  std::printf("%s mode, =1 in the data partition: %s", mode.c_str(), result.describe().c_str());
  EXPECT_GT(result.operations, 4U) << "an uncut =1 works in the data partition";
  EXPECT_EQ(result.cuts, static_cast<std::uint64_t>(kCuts));
  EXPECT_EQ(result.failed, 0U) << result.describe();
}

TEST(BackupCutE2e, PowerCutsDuringModemBackupRealMode) {
  cut_campaign("real");
}
TEST(BackupCutE2e, PowerCutsDuringModemBackupSafeMode) {
  cut_campaign("safe");
}

}  // namespace
}  // namespace vmodem::e2e
