// Power cuts during AT+QPRTPARA=1 / =11 and during the boot-time restores
// (forced by =3 / =13, or triggered by a failing probe point), in both
// power-loss modes, booted after each cut through the module's own
// file-system boot (fs_boot). Quick tier: a seeded sample of the operations,
// some cut a second time during the restore that follows (seed printed;
// VMODEM_TEST_SEED replays). Full tier (Full/BackupCampaign.*): every
// operation, in three cut modes.
#include "campaign.hpp"

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include "test_seed.hpp"
#include "tier.hpp"

namespace vmodem::sim::testing {
namespace {

// How hard a tier pushes: quick (CI) samples the operations; full cuts at
// every one, in three cut modes.
struct Tier {
  std::string name;
  std::uint32_t sample;  // 0 = every operation
  double two_deep;
  std::vector<nand::CutMode> cut_modes;
  // Branched against replayed: the seeded operations compared (0 = all).
  std::uint32_t compare_sample;
};
void PrintTo(const Tier& tier, std::ostream* os) {
  *os << tier.name;
}
const Tier kQuick{"Quick", 10, 0.5, {nand::CutMode::torn_random}, 24};
const Tier kFull{
    "Full", 0, 0.25, {nand::CutMode::torn_random, nand::CutMode::after, nand::CutMode::before}, 0};

class BackupCampaign : public ::testing::TestWithParam<Tier> {
 protected:
  void SetUp() override {
    if (GetParam().name == kFull.name) VMODEM_FULL_TIER_ONLY();
  }
  const Tier& tier() const { return GetParam(); }
  void campaign(Side side, Scenario scenario, fs::PowerLossMode mode);
  void branched_equals_replayed(Side side, fs::PowerLossMode mode);
};

std::uint64_t test_seed() {
  static const std::uint64_t seed = vmodem::testing::test_seed(5);
  return seed;
}

void BackupCampaign::campaign(Side side, Scenario scenario, fs::PowerLossMode mode) {
  spdlog::set_level(spdlog::level::off);  // thousands of boots: the log is the tally
  (void)test_seed();
  for (const auto cut : tier().cut_modes) {
    CampaignOptions o;
    o.side = side;
    o.scenario = scenario;
    o.mode = mode;
    o.cut = cut;
    o.sample = tier().sample;
    o.seed = test_seed();
    o.two_deep = scenario == Scenario::backup ? 0.0 : tier().two_deep;
    auto prepared = Campaign::prepare(o);
    ASSERT_TRUE(prepared) << prepared.error();
    const CampaignResult r = (*prepared)->run();
    std::printf("%s", r.describe(o).c_str());
    std::fflush(stdout);
    EXPECT_EQ(r.failed, 0u) << r.describe(o);
    EXPECT_GT(r.cuts, 0u);
    if (scenario == Scenario::backup && tier().sample == 0) {
      // Every operation cut: each outcome the mode allows shows up, and
      // only those (safe mode never loses the backup: checked per cut).
      EXPECT_GT(r.tally.count("new tree, new backup valid"), 0u);
      EXPECT_GT(r.tally.count("new tree, old backup valid"), 0u);
      if (mode == fs::PowerLossMode::real) {
        EXPECT_GT(r.tally.count("new tree, backup invalid (back up again)"), 0u);
      }
    }
  }
}

constexpr auto kReal = fs::PowerLossMode::real;
constexpr auto kSafe = fs::PowerLossMode::safe;

// The backup campaigns reach each cut by branching off one uncut =1 / =11.
// That must be exactly the cut a replay of the command up to it gives: at
// every operation (full tier; a seeded sample in the quick tier), the same
// flash right after the cut and the same outcome.
void BackupCampaign::branched_equals_replayed(Side side, fs::PowerLossMode mode) {
  spdlog::set_level(spdlog::level::off);
  CampaignOptions o;
  o.side = side;
  o.mode = mode;
  o.scenario = Scenario::backup;
  o.seed = test_seed();
  o.record_cuts = true;
  o.sample = tier().compare_sample;
  std::map<std::uint64_t, CutRecord> per_cut[2];
  for (const bool branch : {false, true}) {
    o.branch = branch;
    auto prepared = Campaign::prepare(o);
    ASSERT_TRUE(prepared) << prepared.error();
    const CampaignResult r = (*prepared)->run();
    EXPECT_EQ(r.failed, 0u) << r.describe(o);
    if (tier().compare_sample == 0) {
      EXPECT_EQ(r.cuts, r.operations) << "every operation cut";
    }
    EXPECT_GT(r.cuts, 0u);
    per_cut[branch] = r.per_cut;
  }
  ASSERT_EQ(per_cut[0].size(), per_cut[1].size());
  for (const auto& [n, replayed] : per_cut[0]) {
    const CutRecord& branched = per_cut[1][n];
    EXPECT_EQ(branched.flash_digest, replayed.flash_digest) << "flash after the cut at " << n;
    EXPECT_EQ(branched.outcome, replayed.outcome) << "outcome of the cut at " << n;
  }
}

TEST_P(BackupCampaign, BranchedCutsEqualReplayedCutsModemRealMode) {
  branched_equals_replayed(Side::modem, kReal);
}
TEST_P(BackupCampaign, BranchedCutsEqualReplayedCutsApSafeMode) {
  branched_equals_replayed(Side::ap, kSafe);
}

TEST_P(BackupCampaign, ModemBackupRealMode) {
  campaign(Side::modem, Scenario::backup, kReal);
}
TEST_P(BackupCampaign, ModemBackupSafeMode) {
  campaign(Side::modem, Scenario::backup, kSafe);
}
TEST_P(BackupCampaign, ApBackupRealMode) {
  campaign(Side::ap, Scenario::backup, kReal);
}
TEST_P(BackupCampaign, ApBackupSafeMode) {
  campaign(Side::ap, Scenario::backup, kSafe);
}
TEST_P(BackupCampaign, ModemForcedRestoreRealMode) {
  campaign(Side::modem, Scenario::forced_restore, kReal);
}
TEST_P(BackupCampaign, ModemForcedRestoreSafeMode) {
  campaign(Side::modem, Scenario::forced_restore, kSafe);
}
TEST_P(BackupCampaign, ApForcedRestoreRealMode) {
  campaign(Side::ap, Scenario::forced_restore, kReal);
}
TEST_P(BackupCampaign, ApForcedRestoreSafeMode) {
  campaign(Side::ap, Scenario::forced_restore, kSafe);
}
TEST_P(BackupCampaign, ModemProbeRestoreRealMode) {
  campaign(Side::modem, Scenario::probe_restore, kReal);
}
TEST_P(BackupCampaign, ModemProbeRestoreSafeMode) {
  campaign(Side::modem, Scenario::probe_restore, kSafe);
}
TEST_P(BackupCampaign, ApProbeRestoreRealMode) {
  campaign(Side::ap, Scenario::probe_restore, kReal);
}
TEST_P(BackupCampaign, ApProbeRestoreSafeMode) {
  campaign(Side::ap, Scenario::probe_restore, kSafe);
}

INSTANTIATE_TEST_SUITE_P(Quick, BackupCampaign, ::testing::Values(kQuick),
                         [](const auto&) { return std::string("tier"); });
INSTANTIATE_TEST_SUITE_P(Full, BackupCampaign, ::testing::Values(kFull),
                         [](const auto&) { return std::string("tier"); });

}  // namespace
}  // namespace vmodem::sim::testing
