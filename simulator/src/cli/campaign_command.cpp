// `vmodem campaign run SCENARIO` and `vmodem campaign replay REPORT --cut ID`:
// power-cut campaigns over a user's own AT flow (simulator/src/campaign/).
//
// Exit codes: 0 every cut passed (replay: the cut passed), 1 a cut failed or
// the campaign could not run (its setup or uncut action fails), 2 usage or
// a malformed scenario, 3 a file that cannot be read or written, 4 a report
// that is not a campaign report.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include "campaign/runner.hpp"
#include "campaign/scenario.hpp"
#include "cli/commands.hpp"
#include "cli/output.hpp"

namespace vmodem::cli {

namespace {

namespace cp = sim::campaign;

struct CampaignArgs {
  std::string scenario;
  std::string json_out;
  unsigned jobs = 1;
  std::optional<std::uint32_t> sample;
  std::string seed;
  std::string report;
  std::string cut;
  std::string state;
};

bool write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  return static_cast<bool>(out.flush());
}

// One line on a terminal, rewritten in place: how far, how fast, the tally.
void show_progress(const cp::CutRecord& cut, std::uint64_t done, std::uint64_t planned,
                   std::uint64_t failed, double seconds) {
  std::fprintf(stderr, "\r  %llu/%llu cuts, %llu failed, %.0f cuts/s  (%s)\033[K",
               static_cast<unsigned long long>(done), static_cast<unsigned long long>(planned),
               static_cast<unsigned long long>(failed),
               seconds > 0 ? static_cast<double>(done) / seconds : 0.0, cut.point.id().c_str());
}

// Loads a scenario or reports it with the exit code (3 unreadable, 2 malformed).
tl::expected<cp::Scenario, int> scenario_or_report(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    return tl::unexpected(report_error(kExitIo, path + ": cannot read the scenario"));
  auto scenario = cp::load_scenario(path);
  if (!scenario) return tl::unexpected(report_error(kExitUsage, scenario.error().describe()));
  return *scenario;
}

void print_tally(const cp::Report& report) {
  for (const auto& [outcome, n] : report.result.tally)
    std::cout << "  " << n << "  " << outcome << "\n";
  for (const auto& cut : report.cuts) {
    if (!cut.failed) continue;
    std::cout << "  FAILED " << cut.point.id() << " (step " << cut.step << "): " << cut.outcome
              << ": " << cut.detail << "\n";
  }
}

int run_campaign_command(const CampaignArgs& a) {
  if (a.jobs != 1) {
    return report_error(kExitUsage,
                        "-j " + std::to_string(a.jobs) +
                            ": this version runs one worker (parallel workers come later)");
  }
  auto scenario = scenario_or_report(a.scenario);
  if (!scenario) return scenario.error();
  if (a.sample) scenario->cuts.sample = *a.sample;
  if (!a.seed.empty()) {
    const auto seed = parse_seed(a.seed);
    if (!seed)
      return report_error(kExitUsage, "--seed " + a.seed + ": expected a non-negative integer");
    scenario->seed = *seed;
  }
  const bool terminal = isatty(STDERR_FILENO) != 0;
  const auto start = std::chrono::steady_clock::now();
  std::uint64_t failed = 0;
  cp::RunOptions options;
  options.on_cut = [&](const cp::CutRecord& cut, std::uint64_t done, std::uint64_t planned) {
    failed += cut.failed ? 1 : 0;
    if (!terminal) return;
    show_progress(cut, done, planned, failed,
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  };
  if (terminal) {
    std::fprintf(stderr, "vmodem: campaign %s, seed %llu\n", a.scenario.c_str(),
                 static_cast<unsigned long long>(scenario->seed));
  }
  auto report = cp::run_campaign(*scenario, options);
  if (terminal) std::fprintf(stderr, "\n");
  if (!report) return report_error(kExitFailure, report.error());
  std::cout << cp::summary(*report) << "\n";
  print_tally(*report);
  if (!a.json_out.empty()) {
    const auto json = cp::to_json(*report, a.json_out);
    if (!write_text(a.json_out, json.dump(2) + "\n"))
      return report_error(kExitIo, a.json_out + ": cannot write the report");
  }
  return report->passed() ? kExitOk : kExitFailure;
}

tl::expected<nlohmann::json, int> report_or_error(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return tl::unexpected(report_error(kExitIo, path + ": cannot read the report"));
  std::stringstream text;
  text << in.rdbuf();
  auto json = nlohmann::json::parse(text.str(), nullptr, false);
  if (json.is_discarded() || !json.is_object() || !json.contains("vmodem_campaign_report") ||
      !json["scenario"].is_string() || !json["seed"].is_string()) {
    return tl::unexpected(
        report_error(kExitCorrupt, path + ": not a report of vmodem campaign run --json"));
  }
  return json;
}

int replay_command(const CampaignArgs& a) {
  const auto point = nand::campaign::CutPoint::parse(a.cut);
  if (!point) {
    return report_error(
        kExitUsage,
        "--cut " + a.cut + ": expected OPERATION@MODE as the report's ids (137@torn_partial)");
  }
  auto report = report_or_error(a.report);
  if (!report) return report.error();
  auto scenario = scenario_or_report((*report)["scenario"].get<std::string>());
  if (!scenario) return scenario.error();
  const auto seed = parse_seed((*report)["seed"].get<std::string>());
  if (!seed) return report_error(kExitCorrupt, a.report + ": seed: not a number");
  scenario->seed = *seed;  // the report's run, even if the file was edited since
  const std::filesystem::path state = a.state.empty()
                                          ? "campaign-cut-" + std::to_string(point->operation) +
                                                "-" + std::string(nand::to_string(point->mode))
                                          : a.state;
  // Mode 0700 like a `vmodem run` state directory: the image may hold secrets.
  std::error_code ec;
  std::filesystem::create_directories(state, ec);
  if (!ec) std::filesystem::permissions(state, std::filesystem::perms::owner_all, ec);
  if (ec) return report_error(kExitIo, state.string() + ": " + ec.message());
  cp::RunOptions options;
  options.only = *point;
  options.keep_state = state;
  auto replayed = cp::run_campaign(*scenario, options);
  if (!replayed) return report_error(kExitFailure, replayed.error());
  if (replayed->cuts.empty())
    return report_error(kExitFailure, a.cut + ": the action ends before this operation");
  const cp::CutRecord& cut = replayed->cuts.front();
  std::string transcript;
  for (const auto& line : cut.transcript)
    transcript += line + "\n";
  if (!write_text((state / "transcript.txt").string(), transcript))
    return report_error(kExitIo, (state / "transcript.txt").string() + ": cannot write");
  std::cout << cut.point.id() << " (step " << cut.step << "): " << cut.outcome
            << (cut.failed ? ": " + cut.detail : "") << "\n"
            << transcript << "state after the cut: " << state.string() << " (vmodem run --state "
            << state.string() << " --profile " << replayed->profile << ")\n";
  if (!a.json_out.empty() &&
      !write_text(a.json_out, cp::to_json(*replayed, a.json_out).dump(2) + "\n"))
    return report_error(kExitIo, a.json_out + ": cannot write the report");
  return cut.failed ? kExitFailure : kExitOk;
}

}  // namespace

void add_campaign_command(CLI::App& app, CommandList& commands) {
  auto args = std::make_shared<CampaignArgs>();
  auto* campaign =
      app.add_subcommand("campaign", "Power-cut campaigns over your own AT flow (a scenario file)");
  campaign->require_subcommand(1);

  auto* run = campaign->add_subcommand(
      "run", "Cut the power at the NAND operations of a scenario's action, power up, check");
  run->add_option("SCENARIO", args->scenario, "The scenario file (JSON; see README)")->required();
  run->add_option("--json", args->json_out,
                  "Write the report (every cut, its outcome, replay ids)");
  run->add_option("-j,--jobs", args->jobs, "Workers (1 in this version)")->check(kNotNegative);
  run->add_option(
         "--sample", args->sample,
         "Cut this many operations drawn from the seed (0: every one); overrides the scenario")
      ->check(kNotNegative);
  run->add_option("--seed", args->seed, "The run's seed; overrides the scenario's");
  commands.add(run, [args] { return run_campaign_command(*args); });

  auto* replay = campaign->add_subcommand(
      "replay", "Re-run one cut of a report and keep the state it left for vmodem run --state");
  replay->add_option("REPORT", args->report, "A report written by campaign run --json")->required();
  replay->add_option("--cut", args->cut, "The cut's id in the report (OPERATION@MODE)")->required();
  replay->add_option("--state", args->state,
                     "Where to keep the flash after the cut (default ./campaign-cut-OP-MODE)");
  replay->add_option("--json", args->json_out, "Write the replay's report");
  commands.add(replay, [args] { return replay_command(*args); });
}

}  // namespace vmodem::cli
