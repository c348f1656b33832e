// The scenario's action as the campaign engine's case (nand/campaign.hpp),
// for runner.cpp: scenario_case.cpp runs it (rewind, act, the reference run,
// the cut filters), judge.cpp judges what a cut left (runner.hpp lists the
// invariants and the outcomes).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include <vmodem/nand/campaign.hpp>
#include <vmodem/nand/rng.hpp>

#include "campaign/module_driver.hpp"
#include "campaign/module_state.hpp"
#include "campaign/runner.hpp"
#include "campaign/scenario.hpp"

namespace vmodem::sim::campaign {

using nand::campaign::CutPoint;
using nand::campaign::Verdict;

// The action under power cuts, as the engine's case: rewind() boots the kept
// flash, act() runs the action's steps until they end or the power goes,
// verify() powers up and judges (see runner.hpp for the invariants).
//
// Branched (nand::campaign::run_branched, after driver.add_verifier()): at a
// planned operation of the uncut act() the flash is checkpointed, the
// operation cut short, and the driver's verifier module powers up on that
// flash and is judged as the driver's own module is after a replayed cut;
// then the flash is rolled back and the uncut run goes on. The cut's
// transcript is the uncut run's up to the operation, then the verifier's.
class ScenarioCase final : public nand::campaign::BranchingCase {
 public:
  ScenarioCase(const Scenario& scenario, ModuleDriver& driver, bool safe,
               std::filesystem::path keep_state)
      : s_(scenario), d_(driver), safe_(safe), keep_state_(std::move(keep_state)) {
    remember_ = !d_.module().flash().lock().faults().chip().config().wear.read_disturb;
    d_.injector().set_observer(
        [this](std::uint64_t operation, nand::OpKind kind, nand::PageAddr addr) {
          if (tracing_) trace_.push_back({kind, addr.block});
          if (boot_tracing_) boot_trace_.push_back(kind);
          // A replayed cut strikes at the action's operation `armed_`, counted
          // as a branch counts it: across a reset the action makes the module
          // do (AT+QFOTADL), which drops a count-down cut armed before it. The
          // rule is added before the injector looks at its rules for this
          // operation, so it fires on it.
          if (armed_ && operation == armed_->operation) {
            (void)d_.injector().arm_power_cut(1, armed_->mode);
            armed_.reset();
          }
        });
  }
  ~ScenarioCase() override { d_.injector().set_observer({}); }
  ScenarioCase(const ScenarioCase&) = delete;
  ScenarioCase& operator=(const ScenarioCase&) = delete;

  nand::FaultInjector& injector() override { return d_.injector(); }
  void rewind() override;
  void arm(const CutPoint& point) override { armed_ = point; }
  bool act() override;
  Verdict verify(const CutPoint& point) override;
  std::string anomaly() override { return anomaly_; }
  void branch_enter(const CutPoint& point) override;
  void branch_leave() override;
  std::uint64_t boot_operations() override { return first_.boot_operations; }
  Verdict verify_second(const CutPoint& point) override;
  // Second cuts will come (Plan::recovery, or a replay of one): verify()
  // keeps the flash each cut leaves (Storage::checkpoint_begin) for them.
  void expect_second_cuts(bool on) { second_cuts_ = on; }
  // Whether the scenario's recovery kinds let operation `n` of the last
  // verified cut's recovery boot be cut.
  bool boot_eligible(std::uint64_t n) const;

  // The uncut action once, with the module's state recorded before it and
  // after each step. An error when a step does not succeed.
  tl::expected<void, std::string> reference();
  // Whether the scenario's partition and kind filters let operation `n`
  // (of the measured run) be cut.
  bool eligible(std::uint64_t n) const;
  std::string partition_of(std::uint32_t block) const;
  CutRecord take_record() { return std::move(record_); }
  const std::vector<StepSpan>& spans() const { return spans_; }
  // Power-ups the cuts were verified on (Report::power_ups).
  std::uint64_t power_ups() const { return power_ups_; }
  std::uint64_t reference_operations() const { return reference_ops_; }
  // Erase counts per block before and after the reference run.
  const Wear& wear() const { return wear_; }

 private:
  struct Op {
    nand::OpKind kind;
    std::uint32_t block;
  };
  // What powering up on the flash a cut left gives, whatever the cut: the
  // boot, the file systems as the judge reads them, and the verdicts of the
  // invariants that do not depend on the cut (boot, mount, readable, clean)
  // and of the scenario's checks.
  struct PowerUp {
    BootReport boot;
    ModuleState now;
    std::optional<Verdict> failed;         // boot, mount, readable or clean
    std::optional<Verdict> check_failed;   // the first of the scenario's checks that failed
    Transcript lines;                      // what the power-up and the checks said
    std::uint64_t boot_operations = 0;     // the NAND operations of its boot
    std::vector<nand::OpKind> boot_kinds;  // their kinds (with second cuts only)
    // The verdict and note of a cut in each step that left this flash: the
    // judge looks at nothing else.
    std::map<std::size_t, std::pair<Verdict, std::string>> judged;
  };
  // A power-up kept for the next cuts that leave the same flash: the same
  // content (Storage::content_id) and the same chip generator make the
  // verifier's boot and checks the same computation.
  struct Remembered {
    std::uint64_t content = 0;
    nand::Rng chip{0};
    PowerUp power_up;
  };
  PowerUp power_up(ModuleDriver& d);
  // Branched: a remembered power-up when one matches (its lines appended to
  // the transcript), else power_up() remembered.
  PowerUp& power_up_after_cut(ModuleDriver& d);
  std::optional<Verdict> judge_power_up(ModuleDriver& d, PowerUp& p) const;
  std::optional<Verdict> run_checks(ModuleDriver& d);
  Verdict judge(const PowerUp& p);
  // A power-up after a cut judged for the step in flight (once per step:
  // a remembered power-up keeps each step's verdict and note).
  Verdict judge_for_step(PowerUp& p);
  // Keeps the flash the first cut left for its second cuts.
  void hold_first_cut(ModuleDriver& d);
  std::optional<Verdict> judge_files(const ModuleState& now, const BootReport& boot,
                                     std::vector<std::string>& labels);
  std::optional<Verdict> judge_backups(const ModuleState& now, const BootReport& boot,
                                       std::vector<std::string>& labels);
  std::string state_label(const ModuleState& now, const BootReport& boot) const;
  bool touched_by_action(const std::string& fs) const;
  // The module a cut is verified on: the verifier inside a branch.
  ModuleDriver& checker() { return branched_ ? d_.verifier() : d_; }

  const Scenario& s_;
  ModuleDriver& d_;
  bool safe_;
  std::filesystem::path keep_state_;
  std::vector<ModuleState> ref_;  // before the action, then after each step
  std::vector<StepSpan> spans_;
  std::uint64_t reference_ops_ = 0;
  Wear wear_;
  bool tracing_ = false;
  std::vector<Op> trace_, measured_;
  std::size_t in_flight_ = 0;  // 1-based step the power went in
  std::string anomaly_;
  Transcript transcript_;
  CutRecord record_;
  // Inside a branch: the uncut run's transcript and tracing, put back after,
  // and when the branch began (the run's timeouts do not count it).
  bool branched_ = false;
  std::optional<CutPoint> armed_;  // replay: the cut the observer arms at its operation
  Transcript uncut_transcript_;
  bool uncut_tracing_ = false;
  std::chrono::steady_clock::time_point branch_start_{};
  // Branched cuts share power-ups (not with read disturb on: it depends on
  // the read counters, which content_id leaves out). The last few only:
  // a cut's flash is mostly the one the cuts just before it left.
  bool remember_ = false;
  std::deque<Remembered> remembered_;
  PowerUp last_;  // not remembered
  std::uint64_t power_ups_ = 0;
  // Second cuts: what the first cut left (its fault, the transcript up to
  // it, the chip's generator), and the operations of its recovery boot.
  struct FirstCut {
    nlohmann::json fault;
    std::string partition;
    Transcript transcript;
    nand::Rng chip{0};
    std::uint64_t boot_operations = 0;     // of its recovery boot (every cut)
    std::vector<nand::OpKind> boot_kinds;  // their kinds (with second cuts)
  };
  bool second_cuts_ = false;
  FirstCut first_;
  bool boot_tracing_ = false;
  std::vector<nand::OpKind> boot_trace_;
};

// "a, b, c".
inline std::string joined(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts)
    out += (out.empty() ? "" : ", ") + p;
  return out;
}

}  // namespace vmodem::sim::campaign
