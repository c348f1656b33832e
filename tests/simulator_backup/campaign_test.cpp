// Power cuts during AT+QPRTPARA=1 / =11 and during the boot-time restores
// (forced by =3 / =13, or triggered by a failing probe point), in both
// power-loss modes, booted after each cut through the module's own
// file-system boot (fs_boot). Quick tier: a seeded sample of the operations,
// some cut a second time during the restore that follows (seed printed;
// VMODEM_TEST_SEED replays). VMODEM_BACKUP_CAMPAIGN_FULL: every operation,
// in three cut modes.
#include "campaign.hpp"

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

namespace vmodem::sim::testing {
namespace {

#ifdef VMODEM_BACKUP_CAMPAIGN_FULL
#define CAMPAIGN_TEST(name) TEST(BackupCampaignFull, name)
constexpr std::uint32_t kSample = 0;  // every operation
constexpr double kTwoDeep = 0.25;
constexpr nand::CutMode kCutModes[] = {nand::CutMode::torn_random, nand::CutMode::after,
                                       nand::CutMode::before};
#else
#define CAMPAIGN_TEST(name) TEST(BackupCampaign, name)
constexpr std::uint32_t kSample = 10;
constexpr double kTwoDeep = 0.5;
constexpr nand::CutMode kCutModes[] = {nand::CutMode::torn_random};
#endif

std::uint64_t test_seed() {
  static const std::uint64_t seed = [] {
    if (const char* env = std::getenv("VMODEM_TEST_SEED"))
      return static_cast<std::uint64_t>(std::strtoull(env, nullptr, 0));
    return std::uint64_t{5};
  }();
  return seed;
}

void campaign(Side side, Scenario scenario, fs::PowerLossMode mode) {
  spdlog::set_level(spdlog::level::off);  // thousands of boots: the log is the tally
  std::printf("[ seed ] VMODEM_TEST_SEED=%llu\n", static_cast<unsigned long long>(test_seed()));
  for (const auto cut : kCutModes) {
    CampaignOptions o;
    o.side = side;
    o.scenario = scenario;
    o.mode = mode;
    o.cut = cut;
    o.sample = kSample;
    o.seed = test_seed();
    o.two_deep = scenario == Scenario::backup ? 0.0 : kTwoDeep;
    auto prepared = Campaign::prepare(o);
    ASSERT_TRUE(prepared) << prepared.error();
    const CampaignResult r = (*prepared)->run();
    std::printf("%s", r.describe(o).c_str());
    std::fflush(stdout);
    EXPECT_EQ(r.failed, 0u) << r.describe(o);
    EXPECT_GT(r.cuts, 0u);
    if (scenario == Scenario::backup && kSample == 0) {
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
// every operation, the same flash right after the cut and the same outcome.
void branched_equals_replayed(Side side, fs::PowerLossMode mode) {
  spdlog::set_level(spdlog::level::off);
  CampaignOptions o;
  o.side = side;
  o.mode = mode;
  o.scenario = Scenario::backup;
  o.seed = test_seed();
  o.record_cuts = true;
  std::map<std::uint64_t, CutRecord> per_cut[2];
  for (const bool branch : {false, true}) {
    o.branch = branch;
    auto prepared = Campaign::prepare(o);
    ASSERT_TRUE(prepared) << prepared.error();
    const CampaignResult r = (*prepared)->run();
    EXPECT_EQ(r.failed, 0u) << r.describe(o);
    EXPECT_EQ(r.cuts, r.operations) << "every operation cut";
    per_cut[branch] = r.per_cut;
  }
  ASSERT_EQ(per_cut[0].size(), per_cut[1].size());
  for (const auto& [n, replayed] : per_cut[0]) {
    const CutRecord& branched = per_cut[1][n];
    EXPECT_EQ(branched.flash_digest, replayed.flash_digest) << "flash after the cut at " << n;
    EXPECT_EQ(branched.outcome, replayed.outcome) << "outcome of the cut at " << n;
  }
}

CAMPAIGN_TEST(BranchedCutsEqualReplayedCutsModemRealMode) {
  branched_equals_replayed(Side::modem, kReal);
}
CAMPAIGN_TEST(BranchedCutsEqualReplayedCutsApSafeMode) {
  branched_equals_replayed(Side::ap, kSafe);
}

CAMPAIGN_TEST(ModemBackupRealMode) {
  campaign(Side::modem, Scenario::backup, kReal);
}
CAMPAIGN_TEST(ModemBackupSafeMode) {
  campaign(Side::modem, Scenario::backup, kSafe);
}
CAMPAIGN_TEST(ApBackupRealMode) {
  campaign(Side::ap, Scenario::backup, kReal);
}
CAMPAIGN_TEST(ApBackupSafeMode) {
  campaign(Side::ap, Scenario::backup, kSafe);
}
CAMPAIGN_TEST(ModemForcedRestoreRealMode) {
  campaign(Side::modem, Scenario::forced_restore, kReal);
}
CAMPAIGN_TEST(ModemForcedRestoreSafeMode) {
  campaign(Side::modem, Scenario::forced_restore, kSafe);
}
CAMPAIGN_TEST(ApForcedRestoreRealMode) {
  campaign(Side::ap, Scenario::forced_restore, kReal);
}
CAMPAIGN_TEST(ApForcedRestoreSafeMode) {
  campaign(Side::ap, Scenario::forced_restore, kSafe);
}
CAMPAIGN_TEST(ModemProbeRestoreRealMode) {
  campaign(Side::modem, Scenario::probe_restore, kReal);
}
CAMPAIGN_TEST(ModemProbeRestoreSafeMode) {
  campaign(Side::modem, Scenario::probe_restore, kSafe);
}
CAMPAIGN_TEST(ApProbeRestoreRealMode) {
  campaign(Side::ap, Scenario::probe_restore, kReal);
}
CAMPAIGN_TEST(ApProbeRestoreSafeMode) {
  campaign(Side::ap, Scenario::probe_restore, kSafe);
}

}  // namespace
}  // namespace vmodem::sim::testing
