// `vmodem campaign` through the real binary on the shipped example
// (examples/cert-backup: AT+QFUPL of a certificate, then AT+QPRTPARA=11 on a
// BG95-M3): the tally of a seeded sample in the safe and the real power-loss
// mode, the same report with --replay-cuts as with the default branching, a
// cut replayed from the report with the verdict it had and a state directory
// `vmodem run --state` boots, and the exit codes of bad input.
#include <fstream>

#include <gtest/gtest.h>

#include "e2e_support.hpp"
#include "process.hpp"
#include "temp_dir.hpp"
#include "tier.hpp"

namespace vmodem::e2e {
namespace {

using vmodem::testing::run_shell;
using vmodem::testing::TempDir;

const std::string kExamples = VMODEM_EXAMPLES;

std::string sh_quote(const std::filesystem::path& p) {
  return "'" + p.string() + "'";
}

std::uint64_t tally_with(const nlohmann::json& report, const std::string& part) {
  std::uint64_t n = 0;
  for (const auto& [outcome, count] : report["tally"].items())
    n += outcome.find(part) != std::string::npos ? count.get<std::uint64_t>() : 0;
  return n;
}

class Campaign : public ::testing::Test {
 protected:
  // `vmodem campaign run` on `scenario`; returns its report.
  nlohmann::json run(const std::string& scenario, const std::string& extra, int want_exit = 0) {
    const auto out = run_shell(vmodem_binary() + " campaign run " + sh_quote(scenario) +
                               " --json " + sh_quote(report_) + " " + extra + " 2>&1");
    EXPECT_EQ(out.exit_code, want_exit) << out.out;
    EXPECT_NE(out.out.find(" failed, "), std::string::npos) << "the summary line: " << out.out;
    EXPECT_EQ(out.out.find('\r'), std::string::npos) << "no progress line when not a terminal";
    return read_json(report_);
  }

  TempDir dir_;
  std::filesystem::path report_ = dir_ / "report.json";
};

TEST_F(Campaign, SafeModeSampleHasNoFailureAndNeverAnInvalidBackup) {
  const auto report = run(kExamples + "/cert-backup/scenario-safe.json", "--sample 40");
  ASSERT_TRUE(report.is_object());
  EXPECT_EQ(report["power_loss_mode"], "safe");
  EXPECT_EQ(report["seed"], "15");
  EXPECT_EQ(report["cuts"], 40);
  EXPECT_EQ(report["failed"], 0) << report["tally"].dump();
  EXPECT_EQ(tally_with(report, "invalid"), 0U) << report["tally"].dump();
  EXPECT_EQ(report["steps"].size(), 2U);
  EXPECT_EQ(report["results"].size(), 40U);
}

TEST_F(Campaign, ReplayCutsGivesTheBranchedReport) {
  const std::string scenario = kExamples + "/cert-backup/scenario.json";
  const auto branched = run(scenario, "--sample 12");
  const auto replayed = run(scenario, "--sample 12 --replay-cuts");
  ASSERT_TRUE(branched.is_object());
  ASSERT_TRUE(replayed.is_object());
  EXPECT_EQ(branched["tally"], replayed["tally"]);
  ASSERT_EQ(branched["results"].size(), 12U);
  ASSERT_EQ(branched["results"].size(), replayed["results"].size());
  for (std::size_t i = 0; i < branched["results"].size(); ++i) {
    nlohmann::json a = branched["results"][i], b = replayed["results"][i];
    EXPECT_EQ(a, b) << i;
  }
}

TEST_F(Campaign, RealModeSampleClassifiesInvalidBackupsAsPassesAndAReplayReproducesACut) {
  const auto report = run(kExamples + "/cert-backup/scenario.json", "--sample 40");
  ASSERT_TRUE(report.is_object());
  EXPECT_EQ(report["power_loss_mode"], "real");
  EXPECT_EQ(report["failed"], 0) << report["tally"].dump();
  EXPECT_GT(tally_with(report, "ap backup invalid (back up again)"), 0U) << report["tally"].dump();
  // The last cut of the sample: an invalid backup is the likeliest there.
  nlohmann::json cut;
  for (const auto& c : report["results"]) {
    if (c["outcome"].get<std::string>().find("invalid") != std::string::npos) cut = c;
  }
  ASSERT_FALSE(cut.is_null());
  ASSERT_EQ(cut["replay"], "vmodem campaign replay " + report_.string() + " --cut " +
                               cut["id"].get<std::string>());
  const auto state = dir_ / "cut";
  const auto replay =
      run_shell(vmodem_binary() + " campaign replay " + sh_quote(report_) + " --cut " +
                cut["id"].get<std::string>() + " --state " + sh_quote(state) + " 2>&1");
  EXPECT_EQ(replay.exit_code, 0) << replay.out;
  EXPECT_EQ(replay.out.find("changed since the campaign"), std::string::npos) << replay.out;
  EXPECT_EQ(replay.out.substr(0, replay.out.find('\n')),
            cut["id"].get<std::string>() + " (step " + std::to_string(cut["step"].get<int>()) +
                "): " + cut["outcome"].get<std::string>())
      << replay.out;
  EXPECT_NE(replay.out.find("-- power cut: " + cut["op"].get<std::string>() + " block " +
                            std::to_string(cut["block"].get<int>())),
            std::string::npos)
      << replay.out;
  ASSERT_TRUE(std::filesystem::exists(state / "nand.img"));
  EXPECT_TRUE(std::filesystem::exists(state / "transcript.txt"));
  // The state the cut left boots in `vmodem run`, and its backup is what
  // the campaign said: invalid.
  Daemon daemon({}, state);
  ASSERT_TRUE(daemon.wait_booted()) << daemon.log();
  EXPECT_EQ(daemon.ctl("backup-info --file-system ap")["backup_valid"], false);
}

// A replay re-reads the scenario: edited since the campaign, it says so.
TEST_F(Campaign, AReplayOfAnEditedScenarioWarns) {
  const auto scenario = dir_ / "scenario.json";
  std::filesystem::copy_file(kExamples + "/cert-backup/scenario-safe.json", scenario);
  std::filesystem::copy_file(kExamples + "/cert-backup/cert.pem", dir_ / "cert.pem");
  const auto report = run(scenario.string(), "--sample 1");
  ASSERT_EQ(report["results"].size(), 1U);
  const std::string replay = vmodem_binary() + " campaign replay " + sh_quote(report_) + " --cut " +
                             report["results"][0]["id"].get<std::string>() + " --state " +
                             sh_quote(dir_ / "cut") + " 2>&1";
  std::ofstream(scenario, std::ios::app) << "\n";  // the same scenario, another SHA-256
  const auto out = run_shell(replay);
  EXPECT_EQ(out.exit_code, 0) << out.out;
  EXPECT_NE(out.out.find(scenario.string() + " changed since the campaign"), std::string::npos)
      << out.out;
}

TEST_F(Campaign, BadInputHasItsExitCodeAndSaysWhatIsWrong) {
  const auto bad = dir_ / "bad.json";
  std::ofstream(bad) << R"({"action": [{"send": "AT", "timeout_ms": "soon"}]})";
  auto out = run_shell(vmodem_binary() + " campaign run " + sh_quote(bad) + " 2>&1");
  EXPECT_EQ(out.exit_code, 2) << out.out;
  EXPECT_NE(out.out.find(bad.string() + ": action[0].timeout_ms: expected an integer"),
            std::string::npos)
      << out.out;
  const auto typo = dir_ / "typo.json";
  std::ofstream(typo) << R"({"action": [{"send": "AT"}], "cuts": {"partitions": ["usrf"]}})";
  out = run_shell(vmodem_binary() + " campaign run " + sh_quote(typo) + " 2>&1");
  EXPECT_EQ(out.exit_code, 2) << out.out;
  EXPECT_NE(out.out.find(typo.string() + ": cuts.partitions[0]: expected a partition of bg95-m3"),
            std::string::npos)
      << out.out;
  out = run_shell(vmodem_binary() + " campaign run " + sh_quote(dir_ / "absent.json") + " 2>&1");
  EXPECT_EQ(out.exit_code, 3) << out.out;
  out = run_shell(vmodem_binary() + " campaign run " +
                  sh_quote(kExamples + "/cert-backup/scenario.json") + " -j 0 2>&1");
  EXPECT_EQ(out.exit_code, 2) << out.out;
  EXPECT_NE(out.out.find("-j 0: expected 1 to 256"), std::string::npos) << out.out;
  out = run_shell(vmodem_binary() + " campaign replay " + sh_quote(bad) +
                  " --cut 3@torn_partial 2>&1");
  EXPECT_EQ(out.exit_code, 4) << out.out;
  out = run_shell(vmodem_binary() + " campaign replay " + sh_quote(bad) + " --cut 3 2>&1");
  EXPECT_EQ(out.exit_code, 2) << out.out;
}

// Every operation of the example in every cut mode, both power-loss modes.
TEST_F(Campaign, FullEveryOperationInFourCutModes) {
  VMODEM_FULL_TIER_ONLY();
  for (const char* file : {"scenario.json", "scenario-safe.json"}) {
    std::ifstream in(kExamples + "/cert-backup/" + file);
    auto scenario = nlohmann::json::parse(in);
    scenario["cuts"]["modes"] = {"torn_partial", "torn_unstable", "before", "after"};
    // The data file stays where the example keeps it.
    scenario["action"][0]["data_file"] = kExamples + "/cert-backup/cert.pem";
    const auto path = dir_ / file;
    std::ofstream(path) << scenario.dump(2);
    const auto report = run(path.string(), "");
    EXPECT_EQ(report["failed"], 0) << file << ": " << report["tally"].dump();
    EXPECT_EQ(report["cuts"], 4 * report["operations"].get<int>()) << file;
  }
}

// examples/fota-ufs: prepare.sh makes a module and a delta package for the
// firmware it runs; the campaign uploads it, then cuts the power inside
// AT+QFOTADL through to +QIND: "FOTA","END",0 (the package taken, the reset,
// the journaled update at boot, the boot on the new firmware). Every cut of
// the sample passes, most on the new firmware; a replayed "new state" cut
// leaves a module that runs the new version from the other slot.
TEST_F(Campaign, TheFotaExampleEndsEveryCutOnAVerifiedFirmware) {
  const auto work = dir_ / "fota";
  const auto prepared =
      run_shell("VMODEM=" + vmodem_binary() + " sh " +
                sh_quote(kExamples + "/fota-ufs/prepare.sh") + " " + sh_quote(work) + " 2>&1");
  ASSERT_EQ(prepared.exit_code, 0) << prepared.out;
  const auto report = run((work / "scenario.json").string(), "--sample 40");
  ASSERT_TRUE(report.is_object());
  EXPECT_EQ(report["cuts"], 40);
  EXPECT_EQ(report["failed"], 0) << report["tally"].dump();
  EXPECT_GT(report["operations"].get<int>(), 1000) << "the update's own operations are cut";
  EXPECT_GT(tally_with(report, "new state"), 0U) << report["tally"].dump();

  nlohmann::json cut;
  for (const auto& c : report["results"]) {
    if (c["outcome"] == "new state") cut = c;
  }
  ASSERT_FALSE(cut.is_null());
  const auto state = dir_ / "cut";
  const auto replay =
      run_shell(vmodem_binary() + " campaign replay " + sh_quote(report_) + " --cut " +
                cut["id"].get<std::string>() + " --state " + sh_quote(state) + " 2>&1");
  ASSERT_EQ(replay.exit_code, 0) << replay.out;
  const auto info = run_shell(vmodem_binary() + " firmware info " + sh_quote(state) + " --json");
  ASSERT_EQ(info.exit_code, 0) << info.out;
  const auto running = nlohmann::json::parse(info.out, nullptr, false)["running"];
  EXPECT_EQ(running["version"], "BG95M3LAR02A04") << info.out;
  EXPECT_EQ(running["fell_back"], false) << info.out;
}

}  // namespace
}  // namespace vmodem::e2e
