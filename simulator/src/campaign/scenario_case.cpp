#include "campaign/scenario_case.hpp"

#include <algorithm>
#include <functional>
#include <string>

#include <vmodem/nand/storage.hpp>

namespace vmodem::sim::campaign {

void ScenarioCase::rewind() {
  d_.rewind();
  Transcript boot;
  if (!d_.power_on(boot).complete) anomaly_ = "the kept flash does not boot";
  // Operations are counted from the action on, not from its boot.
  d_.injector().reset_operation_count();
  transcript_.clear();
  trace_.clear();
  in_flight_ = 0;
  armed_.reset();
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

namespace {

std::vector<std::uint32_t> erase_counts(Module& module) {
  auto flash = module.flash().lock();
  const nand::Storage& storage = flash.storage();
  std::vector<std::uint32_t> out(storage.geometry().block_count);
  for (std::uint32_t b = 0; b < out.size(); ++b)
    out[b] = storage.block_meta(b).erase_count;
  return out;
}

}  // namespace

tl::expected<void, std::string> ScenarioCase::reference() {
  rewind();
  if (!anomaly_.empty()) return tl::unexpected(anomaly_);
  wear_.before = erase_counts(d_.module());
  ref_.push_back(capture(d_.module()));
  // The action's operations are counted from here: the capture's reads are
  // not the action's (they made the planned count of every campaign too
  // large: 279 for the example's 126 operations).
  d_.injector().reset_operation_count();
  std::uint64_t reading = 0;  // operations of the later captures, not the action's
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
  wear_.after = erase_counts(d_.module());
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
  ModuleDriver& d = checker();
  record_ = CutRecord{};
  record_.point = point;
  record_.step = in_flight_;
  d.cut();  // the module goes down as the cut left it (its io work run: the cut heard)
  if (d.last_fault()) {
    record_.fault = *d.last_fault();
    record_.partition = partition_of(record_.fault.value("block", 0U));
  }
  if (!keep_state_.empty() && !second_cuts_) {
    if (auto saved = d.save_image(keep_state_ / "nand.img"); !saved)
      record_.note = "could not keep the state: " + saved.error();
  }
  if (second_cuts_) hold_first_cut(d);
  PowerUp& p = power_up_after_cut(d);
  const Verdict verdict = judge_for_step(p);
  first_.boot_operations = p.boot_operations;
  record_.transcript = std::move(transcript_);
  if (second_cuts_) {
    first_.boot_kinds = p.boot_kinds;
    d.cut();
    d.module().flash().lock().storage().checkpoint_rollback();  // the first cut's flash again
  }
  return verdict;
}

void ScenarioCase::hold_first_cut(ModuleDriver& d) {
  first_.fault = record_.fault;
  first_.partition = record_.partition;
  first_.transcript = transcript_;
  auto flash = d.module().flash().lock();
  first_.chip = flash.faults().chip().generator();
  (void)flash.storage().checkpoint_begin();  // a second level inside a branch: see kMaxCheckpoints
}

Verdict ScenarioCase::judge_for_step(PowerUp& p) {
  if (const auto seen = p.judged.find(in_flight_); seen != p.judged.end()) {
    record_.note = seen->second.second;
    return seen->second.first;
  }
  Verdict verdict = judge(p);
  p.judged.emplace(in_flight_, std::pair(verdict, record_.note));
  return verdict;
}

bool ScenarioCase::boot_eligible(std::uint64_t n) const {
  if (n == 0 || n > first_.boot_kinds.size()) return false;
  const auto kind = static_cast<unsigned>(first_.boot_kinds[n - 1]);
  return (s_.cuts.recovery_kinds & (1U << kind)) != 0;
}

Verdict ScenarioCase::verify_second(const CutPoint& point) {
  ModuleDriver& d = checker();
  record_ = CutRecord{};
  record_.point = point;
  record_.step = in_flight_;
  record_.fault = first_.fault;
  record_.partition = first_.partition;
  transcript_ = first_.transcript;
  transcript_.push_back("-- second cut: at operation " + std::to_string(point.boot_operation) +
                        " of the recovery boot, " + std::string(nand::to_string(point.boot_mode)));
  {
    auto flash = d.module().flash().lock();
    (void)flash.storage().checkpoint_begin();
    // The boot starts as the first cut left the chip (the power-up that
    // counted its operations did), and the second cut tears from a seed of
    // its own: the same in a replay, whatever ran before.
    flash.faults().chip().set_generator(first_.chip);
    flash.faults().reseed(nand::Rng::mix(s_.seed, std::hash<std::string>{}(point.id())));
    (void)flash.faults().arm_power_cut(point.boot_operation,
                                       point.boot_mode);  // chip off: from the power-on
  }
  (void)d.power_on(transcript_);
  Verdict verdict;
  if (!d.power_lost()) {
    d.module().flash().lock().faults().clear_rules();
    verdict = Verdict::fail("second cut not reached",
                            "the recovery boot ended before its operation " +
                                std::to_string(point.boot_operation) + " (it made " +
                                std::to_string(first_.boot_operations) + " after the first cut)");
  } else {
    if (d.last_fault()) {
      record_.boot_fault = *d.last_fault();
      // Counted from the power-on, as the id counts it (the injector's own
      // count runs on from wherever the run was).
      record_.boot_fault["operation"] = point.boot_operation;
    }
    d.cut();
    if (!keep_state_.empty()) {
      if (auto saved = d.save_image(keep_state_ / "nand.img"); !saved)
        record_.note = "could not keep the state: " + saved.error();
    }
    verdict = judge_for_step(power_up_after_cut(d));
  }
  record_.transcript = std::move(transcript_);
  d.cut();
  d.module().flash().lock().storage().checkpoint_rollback();
  return verdict;
}

ScenarioCase::PowerUp ScenarioCase::power_up(ModuleDriver& d) {
  ++power_ups_;
  PowerUp p;
  const std::size_t from = transcript_.size();
  const std::uint64_t operations = d.injector().operation_count();
  boot_tracing_ = second_cuts_;
  boot_trace_.clear();
  p.boot = d.power_on(transcript_);
  boot_tracing_ = false;
  p.boot_operations = d.injector().operation_count() - operations;
  p.boot_kinds = std::move(boot_trace_);
  p.failed = judge_power_up(d, p);
  if (!p.failed) p.check_failed = run_checks(d);
  p.lines.assign(transcript_.begin() + static_cast<std::ptrdiff_t>(from), transcript_.end());
  return p;
}

ScenarioCase::PowerUp& ScenarioCase::power_up_after_cut(ModuleDriver& d) {
  if (!branched_ || !remember_) {
    last_ = power_up(d);
    return last_;
  }
  std::uint64_t content = 0;
  nand::Rng chip{0};
  {
    auto flash = d.module().flash().lock();
    content = flash.storage().content_id();
    chip = flash.faults().chip().generator();
  }
  for (Remembered& r : remembered_) {
    if (r.content == content && r.chip == chip) {
      transcript_.insert(transcript_.end(), r.power_up.lines.begin(), r.power_up.lines.end());
      return r.power_up;
    }
  }
  constexpr std::size_t kRemembered = 64;
  if (remembered_.size() == kRemembered) remembered_.pop_front();
  remembered_.push_back({content, chip, power_up(d)});
  return remembered_.back().power_up;
}

void ScenarioCase::branch_enter(const CutPoint&) {
  // Nothing to seed: arm() seeds nothing, and the branch finds the
  // injector's and the chip's generators as a replay's cut finds them (the
  // uncut run draws from them what the replay draws up to the cut).
  branch_start_ = std::chrono::steady_clock::now();
  branched_ = true;
  uncut_tracing_ = tracing_;
  tracing_ = false;  // the verifier's operations are not the action's
  uncut_transcript_ = transcript_;
  d_.module().flash().lock().storage().checkpoint_begin();
  d_.verifier().hear_faults(transcript_);  // the cut takes the verifier's power
}

void ScenarioCase::branch_leave() {
  d_.verifier().cut();
  {
    auto flash = d_.module().flash().lock();
    flash.storage().checkpoint_rollback();
    flash.faults().power_up();  // the suspended operation finds the chip as it left it
  }
  d_.module().take_fault_listener();
  transcript_ = std::move(uncut_transcript_);
  tracing_ = uncut_tracing_;
  branched_ = false;
  d_.away(std::chrono::steady_clock::now() - branch_start_);
}

}  // namespace vmodem::sim::campaign
