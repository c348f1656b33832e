#include "campaign/runner.hpp"

#include <chrono>

#include <vmodem/simulator/profile.hpp>

#include "campaign/scenario_case.hpp"

namespace vmodem::sim::campaign {

namespace {

nand::campaign::Plan plan_of(const Scenario& s, const RunOptions& options, ScenarioCase& c) {
  nand::campaign::Plan plan;
  plan.modes = s.cuts.modes;
  plan.sample = s.cuts.sample;
  plan.seed = s.seed;
  plan.first = s.cuts.first;
  plan.last = s.cuts.last;
  plan.only = options.only;
  if (!s.cuts.partitions.empty() || s.cuts.kinds != 0b111)
    plan.eligible = [&c](std::uint64_t n) { return c.eligible(n); };
  return plan;
}

tl::expected<Profile, std::string> profile_of(const Scenario& s) {
  auto profile = load_profile(s.profile);
  if (!profile) return tl::unexpected(s.file.string() + ": profile: " + profile.error().describe());
  if (s.safe_power_loss) profile->backup.safe_power_loss = *s.safe_power_loss;
  return *profile;
}

tl::expected<void, std::string> run_setup(const Scenario& s, ModuleDriver& d) {
  Transcript t;
  if (!d.power_on(t).complete) return tl::unexpected(std::string("the module does not boot"));
  for (std::size_t i = 0; i < s.setup.size(); ++i) {
    const StepResult r = d.run(s.setup[i], t);
    if (!r.ok())
      return tl::unexpected("setup step " + std::to_string(i + 1) + ": " + r.describe(s.setup[i]));
  }
  d.power_off();  // orderly: what the setup wrote is committed
  d.keep_baseline();
  return {};
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

tl::expected<Report, std::string> run_campaign(const Scenario& scenario,
                                               const RunOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  auto profile = profile_of(scenario);
  if (!profile) return tl::unexpected(profile.error());
  Report report;
  // Absolute: a replay may run from another directory.
  std::error_code ec;
  report.scenario = std::filesystem::absolute(scenario.file, ec);
  if (ec) report.scenario = scenario.file;
  report.profile = profile->name;
  report.seed = scenario.seed;
  report.safe_power_loss = profile->backup.safe_power_loss;
  auto driver = ModuleDriver::create(*profile, scenario.seed, scenario.image);
  if (!driver) return tl::unexpected(driver.error());
  if (auto ok = run_setup(scenario, **driver); !ok) return tl::unexpected(ok.error());
  ScenarioCase c(scenario, **driver, report.safe_power_loss,
                 options.only ? options.keep_state : std::filesystem::path());
  if (auto ok = c.reference(); !ok) return tl::unexpected(ok.error());
  const nand::campaign::Plan plan = plan_of(scenario, options, c);
  nand::campaign::Options engine;
  engine.keep_failures = 64;
  engine.on_cut = [&](const CutPoint&, const Verdict& verdict) {
    CutRecord record = c.take_record();
    record.outcome = verdict.outcome;
    record.failed = verdict.failed;
    record.detail = verdict.detail;
    // Transcripts of passing cuts would make a report of thousands of cuts
    // huge; a replay shows any one of them.
    if (!record.failed && !options.only) record.transcript.clear();
    report.cuts.push_back(std::move(record));
    if (options.on_cut) options.on_cut(report.cuts.back(), report.cuts.size(), report.planned);
  };
  // The planned count for progress, from the reference run's operations
  // (the engine measures again and cuts by its own count).
  report.planned = nand::campaign::cut_points(plan, c.reference_operations()).size();
  report.result = nand::campaign::run(c, plan, engine);
  report.operations = report.result.operations;
  report.steps = c.spans();
  report.seconds = seconds_since(start);
  return report;
}

}  // namespace vmodem::sim::campaign
