// Branched cuts against replayed ones: the same scenario run both ways
// (RunOptions::replay) gives the same cuts with the same outcomes, details,
// struck operations, notes and failure transcripts, with one worker or
// several, in both power-loss modes and several cut modes — though branched
// cuts that leave the same flash share one power-up. The full tier compares every
// operation of the action.
#include <gtest/gtest.h>

#include "campaign/report.hpp"
#include "campaign/runner.hpp"
#include "test_seed.hpp"
#include "tier.hpp"
#include "upload_scenario.hpp"

namespace vmodem::sim::campaign {
namespace {

// Cut in three modes: a torn page, a random tear, a clean cut before.
Scenario three_mode_upload(bool safe, std::uint32_t sample) {
  return upload_then_backup(
      safe, sample,
      {nand::CutMode::torn_partial, nand::CutMode::torn_random, nand::CutMode::before});
}

// One cut as the report has it (a failed cut's transcript included: the
// branch's is the uncut run's up to the cut, then the verifier's).
std::string line_of(const CutRecord& cut) {
  std::string out = cut.point.id() + " step " + std::to_string(cut.step) + " " + cut.partition +
                    " " + cut.fault.dump() + " " + cut.boot_fault.dump() + " -> " +
                    (cut.failed ? "FAILED " : "") + cut.outcome + " | " + cut.detail + " | " +
                    cut.note;
  for (const auto& line : cut.transcript)
    out += "\n  " + line;
  return out;
}

std::vector<std::string> lines_of(const Report& report) {
  std::vector<std::string> out;
  for (const auto& cut : report.cuts)
    out.push_back(line_of(cut));
  return out;
}

void expect_same(const Report& branched, const Report& replayed) {
  EXPECT_EQ(branched.operations, replayed.operations);
  EXPECT_EQ(branched.planned, replayed.planned);
  EXPECT_EQ(branched.result.cuts, replayed.result.cuts);
  EXPECT_EQ(branched.result.not_reached, replayed.result.not_reached);
  EXPECT_EQ(branched.result.failed, replayed.result.failed);
  EXPECT_EQ(branched.result.tally, replayed.result.tally);
  const auto a = lines_of(branched), b = lines_of(replayed);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i)
    EXPECT_EQ(a[i], b[i]) << "cut " << i;
}

Report run(const Scenario& s, bool replay, unsigned workers = 1) {
  RunOptions options;
  options.replay = replay;
  options.workers = workers;
  auto report = run_campaign(s, options);
  EXPECT_TRUE(report) << report.error();
  return report ? *report : Report{};
}

TEST(Branching, RealModeCutsAreTheReplayedCuts) {
  const Scenario s = three_mode_upload(false, 24);
  const Report replayed = run(s, true);
  const Report branched = run(s, false);
  ASSERT_EQ(replayed.cuts.size(), 72U);
  expect_same(branched, replayed);
  // Real mode leaves some backups invalid: the comparison covers more than one outcome.
  EXPECT_GT(replayed.result.tally.size(), 1U);
  // A replay powers up once per cut; branched, cuts that leave the same
  // flash (all three modes at a read, a clean cut before an operation and
  // after the one before it) share one power-up and what it said.
  EXPECT_EQ(replayed.power_ups, replayed.result.cuts);
  EXPECT_LT(branched.power_ups, branched.result.cuts * 2 / 3);
  EXPECT_GT(branched.power_ups, 0U);
}

TEST(Branching, SafeModeWithWorkersCutsAreTheReplayedCuts) {
  const Scenario s = three_mode_upload(true, 16);
  const Report replayed = run(s, true);
  const Report branched = run(s, false, 2);
  ASSERT_EQ(replayed.cuts.size(), 48U);
  expect_same(branched, replayed);
}

// Second cuts, at the programs and erases of each cut's recovery boot: the
// same cuts branched (a checkpoint inside the branch's) as replayed, and
// each struck the boot where its id says.
TEST(Branching, SecondCutsInTheRecoveryBootAreTheReplayedOnes) {
  Scenario s = upload_then_backup(true, 6, {nand::CutMode::torn_partial});
  s.cuts.recovery_sample = 2;
  s.cuts.recovery_modes = {nand::CutMode::torn_partial, nand::CutMode::before};
  s.cuts.recovery_kinds = (1U << static_cast<unsigned>(nand::OpKind::program)) |
                          (1U << static_cast<unsigned>(nand::OpKind::erase));
  const Report replayed = run(s, true);
  // Progress counts the first cuts against the planned ones (the second
  // cuts' number is known only as the boots run): never past 6 of 6.
  RunOptions options;
  std::uint64_t calls = 0, last_done = 0;
  options.on_cut = [&](const CutRecord& cut, std::uint64_t done, std::uint64_t planned) {
    ++calls;
    EXPECT_EQ(planned, 6U);
    EXPECT_EQ(done, last_done + (cut.point.nested() ? 0 : 1)) << cut.point.id();
    last_done = done;
  };
  const auto ran = run_campaign(s, options);
  ASSERT_TRUE(ran) << ran.error();
  const Report& branched = *ran;
  EXPECT_EQ(last_done, 6U);
  EXPECT_EQ(calls, branched.result.cuts);
  expect_same(branched, replayed);
  std::size_t second = 0;
  for (const auto& cut : branched.cuts) {
    if (!cut.point.nested()) continue;
    ++second;
    ASSERT_TRUE(cut.boot_fault.is_object()) << cut.point.id();
    const std::string op = cut.boot_fault.value("op", "");
    EXPECT_TRUE(op == "program" || op == "erase") << cut.point.id() << ": " << op;
    EXPECT_FALSE(cut.failed) << cut.point.id() << ": " << cut.detail;
  }
  EXPECT_GT(second, 6U) << "the boots after the cuts write (restore, counters)";
  EXPECT_EQ(branched.result.cuts, 6 + second);
  EXPECT_NE(summary(branched).find("(6 + " + std::to_string(second) + " in recovery boots)"),
            std::string::npos)
      << summary(branched);
}

TEST(Branching, AFailedCutKeepsTheTranscriptOfItsBranch) {
  Scenario s = three_mode_upload(true, 4);
  s.cuts.modes = {nand::CutMode::torn_partial};
  AtStep missing;
  missing.send = "AT+QFLST=\"missing.txt\"";
  s.checks = {missing};
  const Report branched = run(s, false);
  const Report replayed = run(s, true);
  expect_same(branched, replayed);
  ASSERT_EQ(branched.result.failed, 4U);
  for (std::size_t i = 0; i < branched.cuts.size(); ++i) {
    std::string transcript;
    for (const auto& line : branched.cuts[i].transcript)
      transcript += line + "\n";
    SCOPED_TRACE(transcript);
    // The action up to the cut, the cut, the boot after it, the check.
    EXPECT_EQ(branched.cuts[i].transcript.front(), "> AT+QFUPL=\"cert.pem\",62");
    EXPECT_NE(transcript.find("-- power cut:"), std::string::npos);
    EXPECT_NE(transcript.find("urc: APP RDY"), std::string::npos);
    EXPECT_NE(transcript.find("> AT+QFLST=\"missing.txt\""), std::string::npos);
  }
}

TEST(BranchingFull, EveryOperationBranchedIsReplayed) {
  VMODEM_FULL_TIER_ONLY();
  for (const bool safe : {false, true}) {
    SCOPED_TRACE(safe ? "safe" : "real");
    const Scenario s = three_mode_upload(safe, 0);
    expect_same(run(s, false), run(s, true));
  }
}

}  // namespace
}  // namespace vmodem::sim::campaign
