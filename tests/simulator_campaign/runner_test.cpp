// Campaigns run in-process over small seeded samples of an upload followed
// by AT+QPRTPARA=11 on a BG95-M3: the tally in the safe and real power-loss
// modes, a failing user check with its transcript, the partition filter,
// and a cut replayed alone giving the verdict it had in the campaign.
#include "campaign/runner.hpp"

#include <gtest/gtest.h>

#include "test_seed.hpp"
#include "upload_scenario.hpp"

namespace vmodem::sim::campaign {
namespace {

AtStep command(const std::string& line) {
  AtStep step;
  step.send = line;
  return step;
}

std::string tally_of(const Report& report) {
  std::string out = summary(report) + "\n";
  for (const auto& [outcome, n] : report.result.tally)
    out += "  " + std::to_string(n) + "  " + outcome + "\n";
  for (const auto& cut : report.cuts) {
    if (!cut.failed) continue;
    out += "  FAILED " + cut.point.id() + ": " + cut.outcome + ": " + cut.detail + "\n";
    for (const auto& line : cut.transcript)
      out += "    " + line + "\n";
  }
  return out;
}

TEST(Campaign, SafeModeNeverFailsAndEndsOldOrNew) {
  const auto report = run_campaign(upload_then_backup(true, 30));
  ASSERT_TRUE(report) << report.error();
  SCOPED_TRACE(tally_of(*report));
  EXPECT_EQ(report->result.failed, 0U);
  EXPECT_EQ(report->result.cuts, 30U);
  EXPECT_GT(report->operations, 30U);
  ASSERT_EQ(report->steps.size(), 2U);
  EXPECT_EQ(report->cuts.size(), 30U);
  for (const auto& cut : report->cuts) {
    EXPECT_EQ(cut.outcome.find("invalid"), std::string::npos) << cut.point.id();
    EXPECT_GE(cut.step, 1U);
    EXPECT_FALSE(cut.fault.is_null()) << "the cut's operation is named";
  }
}

TEST(Campaign, RealModeClassifiesAnInvalidBackupAsAPassWithThatOutcome) {
  Scenario s = upload_then_backup(false, 0);
  // Only the =11: its operations, found through the partition filter.
  s.cuts.partitions = {"usrfs_bak", "usrfs_bak_info"};
  s.cuts.sample = 25;
  const auto report = run_campaign(s);
  ASSERT_TRUE(report) << report.error();
  SCOPED_TRACE(tally_of(*report));
  EXPECT_EQ(report->result.failed, 0U);
  std::uint64_t invalid = 0;
  for (const auto& cut : report->cuts) {
    EXPECT_TRUE(cut.partition == "usrfs_bak" || cut.partition == "usrfs_bak_info") << cut.partition;
    EXPECT_EQ(cut.step, 2U) << "the upload writes no backup partition";
    if (cut.outcome.find("ap backup invalid (back up again)") != std::string::npos) ++invalid;
  }
  EXPECT_GT(invalid, 0U) << "real mode: a cut in =11 may leave the backup invalid";
}

TEST(Campaign, AFailingCheckIsAFailureWithItsTranscript) {
  Scenario s = upload_then_backup(true, 3);
  s.checks = {command("AT+QFLST=\"missing.txt\"")};
  const auto report = run_campaign(s);
  ASSERT_TRUE(report) << report.error();
  EXPECT_EQ(report->result.failed, 3U);
  ASSERT_FALSE(report->cuts.empty());
  const CutRecord& cut = report->cuts.front();
  EXPECT_EQ(cut.outcome, "failed: check 1");
  EXPECT_NE(cut.detail.find("AT+QFLST=\"missing.txt\": expected \"OK\""), std::string::npos)
      << cut.detail;
  std::string transcript;
  for (const auto& line : cut.transcript)
    transcript += line + "\n";
  EXPECT_NE(transcript.find("-- power cut:"), std::string::npos) << transcript;
  EXPECT_NE(transcript.find("urc: APP RDY"), std::string::npos) << transcript;
  EXPECT_NE(transcript.find("> AT+QFLST=\"missing.txt\""), std::string::npos) << transcript;
}

TEST(Campaign, AReplayedCutHasTheVerdictItHadInTheCampaign) {
  const Scenario s = upload_then_backup(false, 12);
  const auto report = run_campaign(s);
  ASSERT_TRUE(report) << report.error();
  ASSERT_GE(report->cuts.size(), 3U);
  for (const std::size_t i : {std::size_t{0}, report->cuts.size() / 2, report->cuts.size() - 1}) {
    const CutRecord& cut = report->cuts[i];
    RunOptions options;
    options.only = cut.point;
    const auto replayed = run_campaign(s, options);
    ASSERT_TRUE(replayed) << replayed.error();
    ASSERT_EQ(replayed->cuts.size(), 1U);
    EXPECT_EQ(replayed->cuts[0].outcome, cut.outcome) << cut.point.id();
    EXPECT_EQ(replayed->cuts[0].fault, cut.fault) << cut.point.id();
  }
}

TEST(Campaign, AnActionThatFailsWithoutACutIsAnError) {
  Scenario s = upload_then_backup(true, 3);
  s.action = {command("AT+QFDEL=\"nothing.txt\"")};
  const auto report = run_campaign(s);
  ASSERT_FALSE(report);
  EXPECT_NE(report.error().find("the action fails without a power cut: step 1"), std::string::npos)
      << report.error();
}

}  // namespace
}  // namespace vmodem::sim::campaign
