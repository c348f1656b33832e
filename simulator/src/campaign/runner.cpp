#include "campaign/runner.hpp"

#include <chrono>
#include <optional>
#include <thread>

#include <stdlib.h>

#include <vmodem/nand/thread_safety.hpp>
#include <vmodem/simulator/profile.hpp>

#include "campaign/scenario_case.hpp"

namespace vmodem::sim::campaign {

namespace {

nand::campaign::Plan plan_of(const Scenario& s, const RunOptions& options, Shard shard,
                             ScenarioCase& c) {
  nand::campaign::Plan plan;
  plan.modes = s.cuts.modes;
  plan.sample = s.cuts.sample;
  plan.seed = s.seed;
  plan.first = s.cuts.first;
  plan.last = s.cuts.last;
  plan.only = options.only;
  plan.shard = shard;
  plan.recovery.sample = s.cuts.recovery_sample;
  plan.recovery.modes = s.cuts.recovery_modes;
  if (s.cuts.recovery_kinds != 0b111)
    plan.recovery.eligible = [&c](std::uint64_t n) { return c.boot_eligible(n); };
  if (!s.cuts.partitions.empty() || s.cuts.kinds != 0b111)
    plan.eligible = [&c](std::uint64_t n) { return c.eligible(n); };
  return plan;
}

tl::expected<Profile, std::string> profile_of(const Scenario& s) {
  if (auto bad = check_with_profile(s)) return tl::unexpected(bad->describe());
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

// A temporary directory for a worker's ports and control socket, removed
// with everything in it (path empty when it could not be made).
struct StateDir {
  std::filesystem::path path;
  StateDir() {
    std::string name = (std::filesystem::temp_directory_path() / "vmodem-campaign-XXXXXX").string();
    if (::mkdtemp(name.data()) != nullptr) path = name;
  }
  ~StateDir() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
  }
  StateDir(const StateDir&) = delete;
  StateDir& operator=(const StateDir&) = delete;
};

// A worker's cut: the record and the planned count of the whole shard.
using OnCut = std::function<void(CutRecord&, std::uint64_t planned)>;

// Hands every worker's cuts to RunOptions::on_cut one at a time, the first
// cuts counted.
class ProgressGate {
 public:
  explicit ProgressGate(const RunOptions& options) : options_(options) {}
  void cut(CutRecord& record, std::uint64_t planned) {
    if (!options_.on_cut) return;
    const nand::MutexLock lock(mutex_);
    if (!record.point.nested()) ++done_;
    options_.on_cut(record, done_, planned);
  }

 private:
  const RunOptions& options_;
  nand::Mutex mutex_;
  std::uint64_t done_ VMODEM_GUARDED_BY(mutex_) = 0;
};

// One module cutting `shard` (a finer one than options.shard with workers).
tl::expected<Report, std::string> run_worker(const Scenario& scenario, const RunOptions& options,
                                             Shard shard, const OnCut& on_cut) {
  auto profile = profile_of(scenario);
  if (!profile) return tl::unexpected(profile.error());
  Report report;
  // Absolute: a replay may run from another directory.
  std::error_code ec;
  report.scenario = std::filesystem::absolute(scenario.file, ec);
  if (ec) report.scenario = scenario.file;
  report.digest = scenario.digest;
  report.profile = profile->name;
  report.seed = scenario.seed;
  report.safe_power_loss = profile->backup.safe_power_loss;
  report.modes = scenario.cuts.modes;
  report.sample = scenario.cuts.sample;
  report.shard = shard;
  // Host steps: the module serves its ports and control socket in a
  // directory of the worker's own, and every cut is replayed (a program
  // cannot be suspended inside a NAND operation and resumed).
  const bool host = has_host_steps(scenario);
  std::optional<StateDir> state;
  if (host) {
    state.emplace();
    if (state->path.empty()) return tl::unexpected(std::string("cannot make a state directory"));
  }
  auto driver = ModuleDriver::create(*profile, scenario.seed, scenario.image,
                                     state ? state->path : std::filesystem::path());
  if (!driver) return tl::unexpected(driver.error());
  if (auto ok = run_setup(scenario, **driver); !ok) return tl::unexpected(ok.error());
  const bool branch = !options.replay && !options.only && !host;
  if (branch) {
    if (auto ok = (*driver)->add_verifier(); !ok) return tl::unexpected(ok.error());
  }
  ScenarioCase c(scenario, **driver, report.safe_power_loss,
                 options.only ? options.keep_state : std::filesystem::path());
  if (auto ok = c.reference(); !ok) return tl::unexpected(ok.error());
  report.wear = c.wear();
  const nand::campaign::Plan plan = plan_of(scenario, options, shard, c);
  c.expect_second_cuts(plan.only ? plan.only->nested() : plan.recovery.sample > 0);
  // The planned counts, from the reference run's operations (the engine
  // measures again and cuts by its own count).
  report.planned = nand::campaign::cut_points(plan, c.reference_operations()).size();
  const std::uint64_t whole =
      nand::campaign::cut_points(plan_of(scenario, options, options.shard, c),
                                 c.reference_operations())
          .size();
  nand::campaign::Options engine;
  engine.keep_failures = 64;
  engine.stop = options.stop;
  engine.on_cut = [&](const CutPoint&, const Verdict& verdict) {
    CutRecord record = c.take_record();
    record.outcome = verdict.outcome;
    record.failed = verdict.failed;
    record.detail = verdict.detail;
    // Transcripts of passing cuts would make a report of thousands of cuts
    // huge; a replay shows any one of them.
    if (!record.failed && !options.only) record.transcript.clear();
    report.cuts.push_back(std::move(record));
    on_cut(report.cuts.back(), whole);
  };
  report.result =
      branch ? nand::campaign::run_branched(c, plan, engine) : nand::campaign::run(c, plan, engine);
  report.operations = report.result.operations;
  report.steps = c.spans();
  report.power_ups = c.power_ups();
  return report;
}

}  // namespace

tl::expected<Report, std::string> run_campaign(const Scenario& scenario,
                                               const RunOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const unsigned workers = options.only ? 1 : std::max(options.workers, 1U);
  ProgressGate gate(options);
  const OnCut on_cut = [&gate](CutRecord& record, std::uint64_t planned) {
    gate.cut(record, planned);
  };
  if (workers == 1) {
    auto report = run_worker(scenario, options, options.shard, on_cut);
    if (!report) return report;
    // Branched, the cuts come operation by operation: the plan's order back.
    std::vector<Report> one;
    one.push_back(std::move(*report));
    Report ordered = combine(std::move(one), options.shard);
    ordered.seconds = seconds_since(start);
    return ordered;
  }
  // Worker w cuts every workers-th point of the shard, from the w-th.
  std::vector<tl::expected<Report, std::string>> parts(workers,
                                                       tl::unexpected(std::string("not run")));
  {
    std::vector<std::jthread> threads;
    for (unsigned w = 0; w < workers; ++w) {
      const Shard finer{options.shard.index + options.shard.count * w,
                        options.shard.count * workers};
      threads.emplace_back(
          [&, w, finer] { parts[w] = run_worker(scenario, options, finer, on_cut); });
    }
  }
  std::vector<Report> reports;
  for (auto& part : parts) {
    if (!part) return tl::unexpected(part.error());
    reports.push_back(std::move(*part));
  }
  Report report = combine(std::move(reports), options.shard);
  report.seconds = seconds_since(start);
  return report;
}

}  // namespace vmodem::sim::campaign
