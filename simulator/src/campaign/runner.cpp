#include "campaign/runner.hpp"

#include <chrono>

#include <vmodem/simulator/profile.hpp>

#include "campaign/module_state.hpp"

namespace vmodem::sim::campaign {

namespace {

using nand::campaign::CutPoint;
using nand::campaign::Verdict;

// The action under power cuts, as the engine's case: rewind() boots the kept
// flash, act() runs the action's steps until they end or the power goes,
// verify() powers up and judges (see runner.hpp for the invariants).
class ScenarioCase final : public nand::campaign::InjectorCase {
 public:
  ScenarioCase(const Scenario& scenario, ModuleDriver& driver, bool safe,
               std::filesystem::path keep_state)
      : s_(scenario), d_(driver), safe_(safe), keep_state_(std::move(keep_state)) {
    d_.injector().set_observer([this](std::uint64_t, nand::OpKind kind, nand::PageAddr addr) {
      if (tracing_) trace_.push_back({kind, addr.block});
    });
  }
  ~ScenarioCase() override { d_.injector().set_observer({}); }
  ScenarioCase(const ScenarioCase&) = delete;
  ScenarioCase& operator=(const ScenarioCase&) = delete;

  nand::FaultInjector& injector() override { return d_.injector(); }
  void rewind() override;
  bool act() override;
  Verdict verify(const CutPoint& point) override;
  std::string anomaly() override { return anomaly_; }

  // The uncut action once, with the module's state recorded before it and
  // after each step. An error when a step does not succeed.
  tl::expected<void, std::string> reference();
  // Whether the scenario's partition and kind filters let operation `n`
  // (of the measured run) be cut.
  bool eligible(std::uint64_t n) const;
  std::string partition_of(std::uint32_t block) const;
  CutRecord take_record() { return std::move(record_); }
  const std::vector<StepSpan>& spans() const { return spans_; }
  std::uint64_t reference_operations() const { return reference_ops_; }

 private:
  struct Op {
    nand::OpKind kind;
    std::uint32_t block;
  };
  Verdict judge(const BootReport& boot);
  std::optional<Verdict> judge_files(const ModuleState& now, const BootReport& boot,
                                     std::vector<std::string>& labels);
  std::optional<Verdict> judge_backups(const ModuleState& now, const BootReport& boot,
                                       std::vector<std::string>& labels);
  std::string state_label(const ModuleState& now, const BootReport& boot) const;
  bool touched_by_action(const std::string& fs) const;

  const Scenario& s_;
  ModuleDriver& d_;
  bool safe_;
  std::filesystem::path keep_state_;
  std::vector<ModuleState> ref_;  // before the action, then after each step
  std::vector<StepSpan> spans_;
  std::uint64_t reference_ops_ = 0;
  bool tracing_ = false;
  std::vector<Op> trace_, measured_;
  std::size_t in_flight_ = 0;  // 1-based step the power went in
  std::string anomaly_;
  Transcript transcript_;
  CutRecord record_;
};

std::size_t restores_of(const BootReport& boot, const std::string& fs) {
  std::size_t n = 0;
  for (const auto& r : boot.restores)
    n += r.value("file_system", "") == fs ? 1 : 0;
  return n;
}
bool rebuilt(const BootReport& boot, const std::string& fs) {
  for (const auto& r : boot.rebuilds) {
    if (r.value("file_system", "") == fs) return true;
  }
  return false;
}

std::string joined(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts)
    out += (out.empty() ? "" : ", ") + p;
  return out;
}

void ScenarioCase::rewind() {
  d_.rewind();
  Transcript boot;
  if (!d_.power_on(boot).complete) anomaly_ = "the kept flash does not boot";
  // Operations are counted from the action on, not from its boot.
  d_.injector().reset_operation_count();
  transcript_.clear();
  trace_.clear();
  in_flight_ = 0;
}

bool ScenarioCase::act() {
  tracing_ = true;
  std::vector<StepSpan> spans;
  for (std::size_t i = 0; i < s_.action.size(); ++i) {
    in_flight_ = i + 1;
    const std::uint64_t first = d_.injector().operation_count() + 1;
    const StepResult r = d_.run(s_.action[i], transcript_);
    spans.push_back({s_.action[i].label(), first, d_.injector().operation_count()});
    if (r.kind == StepResult::Kind::power_lost) {
      tracing_ = false;
      return true;
    }
    if (!r.ok() && anomaly_.empty())
      anomaly_ = "step " + std::to_string(i + 1) + ": " + r.describe(s_.action[i]);
  }
  tracing_ = false;
  in_flight_ = 0;
  measured_ = trace_;
  spans_ = std::move(spans);
  return false;
}

tl::expected<void, std::string> ScenarioCase::reference() {
  rewind();
  if (!anomaly_.empty()) return tl::unexpected(anomaly_);
  ref_.push_back(capture(d_.module()));
  std::uint64_t reading = 0;  // operations of the captures, not the action's
  for (std::size_t i = 0; i < s_.action.size(); ++i) {
    tracing_ = true;
    const StepResult r = d_.run(s_.action[i], transcript_);
    tracing_ = false;
    if (!r.ok()) {
      return tl::unexpected("the action fails without a power cut: step " + std::to_string(i + 1) +
                            ": " + r.describe(s_.action[i]) + "\n  " + joined(transcript_));
    }
    const std::uint64_t before = d_.injector().operation_count();
    ref_.push_back(capture(d_.module()));
    reading += d_.injector().operation_count() - before;
  }
  reference_ops_ = d_.injector().operation_count() - reading;
  measured_ = trace_;  // what the filters look at until the engine measures
  return {};
}

bool ScenarioCase::eligible(std::uint64_t n) const {
  if (n == 0 || n > measured_.size()) return false;
  const Op& op = measured_[n - 1];
  if (!(s_.cuts.kinds & (1U << static_cast<unsigned>(op.kind)))) return false;
  if (s_.cuts.partitions.empty()) return true;
  const std::string name = partition_of(op.block);
  return std::find(s_.cuts.partitions.begin(), s_.cuts.partitions.end(), name) !=
         s_.cuts.partitions.end();
}

std::string ScenarioCase::partition_of(std::uint32_t block) const {
  for (const auto& entry : d_.module().profile().partitions) {
    if (block >= entry.spec.first_block && block < entry.spec.end_block()) return entry.spec.name;
  }
  return {};
}

Verdict ScenarioCase::verify(const CutPoint& point) {
  record_ = CutRecord{};
  record_.point = point;
  record_.step = in_flight_;
  if (d_.last_fault()) {
    record_.fault = *d_.last_fault();
    record_.partition = partition_of(record_.fault.value("block", 0U));
  }
  d_.cut();  // the module goes down as the cut left it (its io work run)
  if (!keep_state_.empty()) {
    if (auto saved = d_.save_image(keep_state_ / "nand.img"); !saved)
      record_.note = "could not keep the state: " + saved.error();
  }
  const BootReport boot = d_.power_on(transcript_);
  Verdict verdict = judge(boot);
  record_.transcript = std::move(transcript_);
  return verdict;
}

Verdict ScenarioCase::judge(const BootReport& boot) {
  if (!boot.complete) {
    std::string why = "the module did not complete its boot";
    for (const auto& e : boot.events)
      why += "; " + e;
    return Verdict::fail("failed: boot", why);
  }
  const ModuleState now = capture(d_.module());
  for (const auto& [name, fs] : now) {
    if (!fs.mounted) return Verdict::fail("failed: mount", name + " is not mounted");
    if (!fs.error.empty()) return Verdict::fail("failed: readable", name + ": " + fs.error);
    const fs::CheckReport check = d_.module().file_system(name)->lock()->check();
    if (!check.ok()) return Verdict::fail("failed: clean", name + ": " + check.first()->describe());
  }
  std::vector<std::string> labels{state_label(now, boot)};
  if (auto failed = judge_files(now, boot, labels)) return *failed;
  if (auto failed = judge_backups(now, boot, labels)) return *failed;
  for (std::size_t i = 0; i < s_.checks.size(); ++i) {
    const StepResult r = d_.run(s_.checks[i], transcript_);
    if (!r.ok())
      return Verdict::fail("failed: check " + std::to_string(i + 1), r.describe(s_.checks[i]));
  }
  return Verdict::pass(joined(labels));
}

// "old state", "new state", "after step N" (or "before step N" when the file
// systems disagree), judged on the file systems no boot restored.
std::string ScenarioCase::state_label(const ModuleState& now, const BootReport& boot) const {
  const std::size_t k = in_flight_ - 1;  // steps acknowledged
  bool all_after = true;
  bool all_before = true;
  for (const auto& [name, fs] : now) {
    if (restores_of(boot, name) > 0 || rebuilt(boot, name)) continue;
    all_after = all_after && tree_difference(fs, ref_[k + 1].at(name)).empty();
    all_before = all_before && tree_difference(fs, ref_[k].at(name)).empty();
  }
  const std::size_t n = s_.action.size();
  if (all_after) return k + 1 == n ? "new state" : "after step " + std::to_string(k + 1);
  if (all_before) return k == 0 ? "old state" : "after step " + std::to_string(k);
  return "step " + std::to_string(k + 1) + " applied in part";
}

std::optional<Verdict> ScenarioCase::judge_files(const ModuleState& now, const BootReport& boot,
                                                 std::vector<std::string>& labels) {
  const std::size_t k = in_flight_ - 1;
  for (const auto& [name, fs] : now) {
    const FsState& before = ref_[k].at(name);
    const FsState& after = ref_[k + 1].at(name);
    const std::string lost = untouched_lost(fs, before, after);
    if (rebuilt(boot, name)) {
      labels.push_back(name + " rebuilt from factory");
      if (!lost.empty()) record_.note.append(name).append(": ").append(lost).append(" (rebuilt); ");
      continue;
    }
    if (restores_of(boot, name) > 0) {
      labels.push_back(name + " recovered by restore");
      if (!lost.empty())
        record_.note.append(name).append(": ").append(lost).append(" (restored); ");
      continue;
    }
    if (!lost.empty())
      return Verdict::fail("failed: acknowledged files intact", name + ": " += lost);
    if (!tree_difference(fs, before).empty() && !tree_difference(fs, after).empty()) {
      return Verdict::fail("failed: step all or nothing",
                           name + ": neither the state before step " + std::to_string(k + 1) +
                               " nor after it (" + tree_difference(fs, after) + ")");
    }
  }
  return std::nullopt;
}

bool ScenarioCase::touched_by_action(const std::string& fs) const {
  const auto& first = ref_.front().at(fs).backup;
  const auto& last = ref_.back().at(fs).backup;
  return first && last && first->backup_count != last->backup_count;
}

std::optional<Verdict> ScenarioCase::judge_backups(const ModuleState& now, const BootReport& boot,
                                                   std::vector<std::string>& labels) {
  const std::size_t k = in_flight_ - 1;
  for (const auto& [name, fs] : now) {
    const auto& have = fs.backup;
    const auto& before = ref_[k].at(name).backup;
    const auto& after = ref_[k + 1].at(name).backup;
    if (!have || !before || !after) continue;
    const std::uint32_t restored = static_cast<std::uint32_t>(restores_of(boot, name));
    if (have->restore_count != before->restore_count + restored &&
        have->restore_count != after->restore_count + restored) {
      return Verdict::fail("failed: restore counters",
                           name + ": restore_count " + std::to_string(have->restore_count) +
                               ", expected " + std::to_string(before->restore_count + restored));
    }
    const bool step_backs_up = before->backup_count != after->backup_count;
    if (!have->valid && (before->valid || after->valid)) {
      if (safe_) {
        return Verdict::fail("failed: backup valid",
                             name + ": the safe power-loss mode left no valid backup");
      }
      if (!step_backs_up) {
        return Verdict::fail("failed: backup valid",
                             name + ": the backup went invalid in a step that does not back up");
      }
      labels.push_back(name + " backup invalid (back up again)");
      continue;
    }
    if (!have->valid) continue;
    if (step_backs_up && have->backup_count == after->backup_count) {
      labels.push_back(name + " backup new");
    } else if (have->backup_count == before->backup_count) {
      if (touched_by_action(name)) labels.push_back(name + " backup old");
    } else {
      return Verdict::fail("failed: backup counters",
                           name + ": backup_count " + std::to_string(have->backup_count) +
                               " is neither " + std::to_string(before->backup_count) + " nor " +
                               std::to_string(after->backup_count));
    }
  }
  return std::nullopt;
}

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
