// Host-command scenarios: the action is the user's own program, run against
// the module's real PTY (examples/host-settings: a Python program that
// rewrites settings.ini with AT+QFOPEN/+QFWRITE and no rename). The
// campaign cuts it at its real NAND operations and finds the torn-file
// cuts; a cut replays alone with the same verdict; a program that hangs is
// killed at its timeout and reported as such.
#include <gtest/gtest.h>

#include "campaign/runner.hpp"

namespace vmodem::sim::campaign {
namespace {

const std::filesystem::path kExample =
    std::filesystem::path(VMODEM_EXAMPLES) / "host-settings" / "scenario.json";

std::string transcript_of(const CutRecord& cut) {
  std::string out;
  for (const auto& line : cut.transcript)
    out += line + "\n";
  return out;
}

TEST(HostCommand, TheCampaignFindsTheTornSettingsFile) {
  auto s = load_scenario(kExample);
  ASSERT_TRUE(s) << s.error().describe();
  ASSERT_TRUE(has_host_steps(*s));
  const auto report = run_campaign(*s);
  ASSERT_TRUE(report) << report.error();
  EXPECT_GT(report->operations, 3U) << "the program's writes reach the flash";
  EXPECT_EQ(report->result.cuts, report->operations);
  EXPECT_GT(report->result.failed, 0U) << "no rename: some cut leaves a torn settings.ini";
  EXPECT_GT(report->result.count("old state"), 0U) << "a cut before the file is emptied";
  for (const auto& cut : report->cuts) {
    if (!cut.failed) continue;
    EXPECT_EQ(cut.outcome, "failed: step all or nothing") << cut.point.id();
    EXPECT_NE(cut.detail.find("/settings.ini changed"), std::string::npos) << cut.detail;
    const std::string transcript = transcript_of(cut);
    EXPECT_NE(transcript.find("$ python3 write_settings.py"), std::string::npos) << transcript;
    EXPECT_NE(transcript.find("-- power cut:"), std::string::npos) << transcript;
    EXPECT_NE(transcript.find("urc: APP RDY"), std::string::npos) << transcript;
  }
  // A cut replayed alone: the same operation struck, the same verdict.
  const CutRecord& torn = *std::find_if(report->cuts.begin(), report->cuts.end(),
                                        [](const CutRecord& c) { return c.failed; });
  RunOptions options;
  options.only = torn.point;
  const auto replayed = run_campaign(*s, options);
  ASSERT_TRUE(replayed) << replayed.error();
  ASSERT_EQ(replayed->cuts.size(), 1U);
  EXPECT_EQ(replayed->cuts[0].outcome, torn.outcome);
  EXPECT_EQ(replayed->cuts[0].fault, torn.fault);
}

TEST(HostCommand, AProgramThatHangsIsKilledAtItsTimeout) {
  auto s =
      parse_scenario(R"({"action": [{"run": "exec sleep 30", "timeout_ms": 300}]})", "inline.json");
  ASSERT_TRUE(s) << s.error().describe();
  const auto start = std::chrono::steady_clock::now();
  const auto report = run_campaign(*s);
  ASSERT_FALSE(report);
  EXPECT_NE(report.error().find("run exec sleep 30: killed at its timeout of 300 ms"),
            std::string::npos)
      << report.error();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}

TEST(HostCommand, AProgramThatFailsSaysSoWithItsOutput) {
  auto s =
      parse_scenario(R"({"action": [{"run": "echo no port here >&2; exit 3"}]})", "inline.json");
  ASSERT_TRUE(s) << s.error().describe();
  const auto report = run_campaign(*s);
  ASSERT_FALSE(report);
  EXPECT_NE(report.error().find("exit 3"), std::string::npos) << report.error();
  EXPECT_NE(report.error().find("host: no port here"), std::string::npos) << report.error();
}

TEST(HostCommand, AnEmptyRunIsAMalformedScenario) {
  const auto s = parse_scenario(R"({"action": [{"run": ""}]})", "inline.json");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().field, "action[0].run");
}

}  // namespace
}  // namespace vmodem::sim::campaign
