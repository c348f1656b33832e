// `vmodem campaign run SCENARIO`, `vmodem campaign replay REPORT --cut ID`
// and `vmodem campaign merge REPORT...`: power-cut campaigns over a user's
// own AT flow (simulator/src/campaign/).
//
// Exit codes: 0 every cut passed (replay: the cut passed), 1 a cut failed or
// the campaign could not run (its setup or uncut action fails), 2 usage or
// a malformed scenario, 3 a file that cannot be read or written, 4 a report
// that is not a campaign report, 5 merge: reports that are not the shards of
// one campaign, 130 interrupted (Ctrl-C: the reports asked for are written,
// marked partial).
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>
#include <signal.h>
#include <unistd.h>

#include "campaign/runner.hpp"
#include "campaign/scenario.hpp"
#include "cli/commands.hpp"
#include "cli/output.hpp"

namespace vmodem::cli {

namespace {

namespace cp = sim::campaign;

constexpr int kExitInterrupted = 130;  // 128 + SIGINT, as a shell reports it
constexpr int kExitNotShards = 5;

struct CampaignArgs {
  std::string scenario;
  std::string json_out;
  std::string junit_out;
  std::string html_out;
  std::string shard;
  std::vector<std::string> reports;
  unsigned jobs = 1;
  bool replay_cuts = false;
  std::optional<std::uint32_t> sample;
  std::string seed;
  std::string report;
  std::string cut;
  std::string state;
};

// Set by the first SIGINT (the handler then reverts to the default: a
// second Ctrl-C ends the process at once); workers stop before their next cut.
std::atomic<bool> g_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void on_sigint(int) {
  g_interrupted.store(true, std::memory_order_relaxed);
}

// Installs on_sigint for SIGINT for as long as it lives.
class InterruptGuard {
 public:
  InterruptGuard() {
    struct sigaction action {};
    action.sa_handler = on_sigint;
    action.sa_flags = SA_RESETHAND;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGINT, &action, &previous_);
  }
  ~InterruptGuard() { ::sigaction(SIGINT, &previous_, nullptr); }
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

 private:
  struct sigaction previous_ {};
};

bool write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  return static_cast<bool>(out.flush());
}

// How far, how fast, the tally so far: on a terminal one line rewritten in
// place after every cut; otherwise a plain line at each tenth of the plan.
class Progress {
 public:
  explicit Progress(bool terminal) : terminal_(terminal) {}
  // `done` of `planned` first cuts; second cuts (in recovery boots) are
  // counted here as they come, their number unknown before.
  void cut(const cp::CutRecord& cut, std::uint64_t done, std::uint64_t planned) {
    failed_ += cut.failed ? 1 : 0;
    ++tally_[cp::outcome_class(cut.outcome)];
    // The rate from the first cut on: the setup and the reference run
    // before it are not cuts.
    if (++all_ == 1) first_ = std::chrono::steady_clock::now();
    const std::uint64_t tenth = planned == 0 ? 0 : done * 10 / planned;
    if (!terminal_ && tenth == shown_tenth_) return;
    shown_tenth_ = tenth;
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - first_).count();
    char line[200];
    char second[48] = "";
    if (all_ > done)  // the rest are second cuts
      std::snprintf(second, sizeof second, " (+%llu second)",
                    static_cast<unsigned long long>(all_ - done));
    std::snprintf(line, sizeof line, "%llu/%llu cuts%s, %llu failed, %.0f cuts/s",
                  static_cast<unsigned long long>(done), static_cast<unsigned long long>(planned),
                  second, static_cast<unsigned long long>(failed_),
                  seconds > 0 ? static_cast<double>(all_ - 1) / seconds : 0.0);
    if (!terminal_) {
      std::fprintf(stderr, "vmodem: campaign: %s\n", line);
      return;
    }
    // The tally so far by class (the HTML's colours): "new state 40, ...".
    std::string tally;
    for (const auto& [c, n] : tally_) {
      tally.append(tally.empty() ? "" : ", ").append(cp::to_string(c)).append(" ");
      tally += std::to_string(n);
    }
    std::fprintf(stderr, "\r  %s  [%s]\033[K", line, tally.c_str());
  }

 private:
  bool terminal_;
  std::chrono::steady_clock::time_point first_ = std::chrono::steady_clock::now();
  std::uint64_t failed_ = 0;
  std::uint64_t all_ = 0;  // first and second cuts
  std::uint64_t shown_tenth_ = 0;
  std::map<cp::OutcomeClass, std::uint64_t> tally_;
};

// "I/N" with 1 <= I <= N as the runner's 0-based shard.
std::optional<cp::Shard> parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  if (slash == std::string::npos) return std::nullopt;
  const auto i = parse_seed(text.substr(0, slash));
  const auto n = parse_seed(text.substr(slash + 1));
  if (!i || !n || *i < 1 || *i > *n || *n > 1'000'000) return std::nullopt;
  return cp::Shard{static_cast<std::uint32_t>(*i - 1), static_cast<std::uint32_t>(*n)};
}

// The reports asked for (--json, --junit, --html), each cut's replay
// command naming the JSON report.
int write_reports(const CampaignArgs& a, const cp::Report& report) {
  const std::string replay_from = a.json_out.empty() ? "REPORT.json" : a.json_out;
  if (!a.json_out.empty() &&
      !write_text(a.json_out, cp::to_json(report, a.json_out).dump(2) + "\n"))
    return report_error(kExitIo, a.json_out + ": cannot write the report");
  if (!a.junit_out.empty() && !write_text(a.junit_out, cp::to_junit(report, replay_from)))
    return report_error(kExitIo, a.junit_out + ": cannot write the report");
  if (!a.html_out.empty() && !write_text(a.html_out, cp::to_html(report, replay_from)))
    return report_error(kExitIo, a.html_out + ": cannot write the report");
  return kExitOk;
}

// Loads a scenario or reports it with the exit code (3 unreadable, 2 malformed).
tl::expected<cp::Scenario, int> scenario_or_report(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    return tl::unexpected(report_error(kExitIo, path + ": cannot read the scenario"));
  auto scenario = cp::load_scenario(path);
  if (!scenario) return tl::unexpected(report_error(kExitUsage, scenario.error().describe()));
  if (auto bad = cp::check_with_profile(*scenario))
    return tl::unexpected(report_error(kExitUsage, bad->describe()));
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
  if (a.jobs < 1 || a.jobs > 256)
    return report_error(kExitUsage, "-j " + std::to_string(a.jobs) + ": expected 1 to 256");
  std::optional<cp::Shard> shard = cp::Shard{};
  if (!a.shard.empty()) shard = parse_shard(a.shard);
  if (!shard) {
    return report_error(kExitUsage, "--shard " + a.shard +
                                        ": expected I/N with 1 <= I <= N (2/4: the second "
                                        "of four shards)");
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
  Progress progress(terminal);
  cp::RunOptions options;
  options.shard = *shard;
  options.workers = a.jobs;
  options.replay = a.replay_cuts;
  options.on_cut = [&](const cp::CutRecord& cut, std::uint64_t done, std::uint64_t planned) {
    progress.cut(cut, done, planned);
  };
  options.stop = [] { return g_interrupted.load(std::memory_order_relaxed); };
  // The seed is logged: every random choice of the campaign comes from it.
  std::fprintf(stderr, "vmodem: campaign %s, seed %llu, %u worker%s%s, %s\n", a.scenario.c_str(),
               static_cast<unsigned long long>(scenario->seed), a.jobs, a.jobs == 1 ? "" : "s",
               a.shard.empty() ? "" : (", shard " + a.shard).c_str(),
               a.replay_cuts || cp::has_host_steps(*scenario) ? "each cut replayed"
                                                              : "cuts branched off one uncut run");
  std::optional<tl::expected<cp::Report, std::string>> report;
  {
    const InterruptGuard guard;
    report = cp::run_campaign(*scenario, options);
  }
  if (terminal) std::fprintf(stderr, "\n");
  if (!*report) return report_error(kExitFailure, report->error());
  std::cout << cp::summary(**report) << "\n";
  print_tally(**report);
  if (const int written = write_reports(a, **report); written != kExitOk) return written;
  if ((*report)->partial()) {
    std::fprintf(stderr, "vmodem: interrupted: the report%s partial\n",
                 a.json_out.empty() && a.junit_out.empty() && a.html_out.empty() ? " would be"
                                                                                 : "s written are");
    return kExitInterrupted;
  }
  return (*report)->passed() ? kExitOk : kExitFailure;
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

int merge_command(const CampaignArgs& a) {
  std::vector<cp::Report> shards;
  for (const auto& path : a.reports) {
    auto json = report_or_error(path);
    if (!json) return json.error();
    auto report = cp::report_from_json(*json);
    if (!report) return report_error(kExitCorrupt, path + ": " + report.error());
    shards.push_back(std::move(*report));
  }
  auto merged = cp::merge(std::move(shards));
  if (!merged) {
    // "report 2: ..." names the file.
    std::string why = merged.error();
    if (why.starts_with("report ")) {
      const auto n = std::stoul(why.substr(7));
      if (n >= 1 && n <= a.reports.size()) why = a.reports[n - 1] + why.substr(why.find(':'));
    }
    return report_error(kExitNotShards, "cannot merge: " + why);
  }
  std::cout << cp::summary(*merged) << "\n";
  print_tally(*merged);
  if (const int written = write_reports(a, *merged); written != kExitOk) return written;
  if (merged->partial()) return kExitInterrupted;
  return merged->passed() ? kExitOk : kExitFailure;
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
  if (const auto recorded = report->find("scenario_sha256");
      recorded != report->end() && recorded->is_string() && *recorded != scenario->digest) {
    std::fprintf(stderr,
                 "vmodem: warning: %s changed since the campaign (its SHA-256 differs from the "
                 "report's): the cut replayed is the edited scenario's\n",
                 scenario->file.c_str());
  }
  std::string name = "campaign-cut-" + std::to_string(point->operation) + "-" +
                     std::string(nand::to_string(point->mode));
  if (point->nested()) {
    name += "-boot-" + std::to_string(point->boot_operation) + "-" +
            std::string(nand::to_string(point->boot_mode));
  }
  const std::filesystem::path state = a.state.empty() ? name : a.state;
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
  if (const int written = write_reports(a, *replayed); written != kExitOk) return written;
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
  run->add_option("--junit", args->junit_out, "Write JUnit XML (a test case per cut)");
  run->add_option("--html", args->html_out, "Write a self-contained HTML page of the report");
  run->add_option("-j,--jobs", args->jobs, "Workers, each with a module of its own (default 1)")
      ->check(kNotNegative);
  run->add_option("--shard", args->shard,
                  "Run shard I of N (1-based): a deterministic 1/N of the cut points; "
                  "campaign merge joins the shards' --json reports");
  run->add_option(
         "--sample", args->sample,
         "Cut this many operations drawn from the seed (0: every one); overrides the scenario")
      ->check(kNotNegative);
  run->add_option("--seed", args->seed, "The run's seed; overrides the scenario's");
  run->add_flag("--replay-cuts", args->replay_cuts,
                "Replay the action up to each cut instead of branching every cut off one "
                "uncut run (slower; the same report)");
  commands.add(run, [args] { return run_campaign_command(*args); });

  auto* replay = campaign->add_subcommand(
      "replay", "Re-run one cut of a report and keep the state it left for vmodem run --state");
  replay->add_option("REPORT", args->report, "A report written by campaign run --json")->required();
  replay->add_option("--cut", args->cut, "The cut's id in the report (OPERATION@MODE)")->required();
  replay->add_option("--state", args->state,
                     "Where to keep the flash after the cut (default ./campaign-cut-OP-MODE, a "
                     "second cut adds -boot-OP-MODE)");
  replay->add_option("--json", args->json_out, "Write the replay's report");
  commands.add(replay, [args] { return replay_command(*args); });

  auto* merge = campaign->add_subcommand(
      "merge", "Merge the --json reports of a campaign's shards into the report of the whole");
  merge
      ->add_option("REPORT", args->reports,
                   "Every shard's report (campaign run --shard I/N --json)")
      ->required();
  merge->add_option("--json", args->json_out, "Write the merged report (replays read it)");
  merge->add_option("--junit", args->junit_out, "Write the merged JUnit XML");
  merge->add_option("--html", args->html_out, "Write the merged HTML page");
  commands.add(merge, [args] { return merge_command(*args); });
}

}  // namespace vmodem::cli
