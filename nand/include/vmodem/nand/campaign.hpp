// Power-cut campaigns: one engine for every "cut the power at NAND operation
// k of an action, power back up, check what survived" loop, whatever the
// action is (a file-system workload, a backup, a firmware update, a whole
// module's boot).
//
// A campaign measures the action once uncut (how many NAND operations it
// takes), plans its cut points (every operation or a seeded sample, in one
// or more cut modes, optionally inside a window), and for each point rewinds
// the flash, arms a cut at that operation, runs the action until the power
// goes, and asks the case for a verdict. Verdicts are tallied by outcome;
// failures keep the cut's id, which replays that cut alone
// (Plan::only = CutPoint::parse(id)).
//
// The engine owns no flash: a Case does (its storage, chip and injector) and
// says how to rewind it, run the action and verify. Threading: run() calls
// the case on the caller's thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <vmodem/nand/fault.hpp>

namespace vmodem::nand::campaign {

// Where one cut strikes: the operation (1-based, counted from the start of
// the action) and how. Its id, "<operation>@<mode>" (e.g. "137@torn_partial"),
// names it in reports and replays it. A second cut during the recovery boot
// of that cut adds where in that boot (1-based, counted from its power-on)
// and how: "137@torn_partial/12@before".
struct CutPoint {
  std::uint64_t operation = 0;
  CutMode mode = CutMode::torn_random;
  std::uint64_t boot_operation = 0;  // 0: no second cut
  CutMode boot_mode = CutMode::torn_random;

  bool nested() const { return boot_operation != 0; }
  CutPoint first() const { return {operation, mode}; }
  std::string id() const;
  // nullopt unless `id` is "<operation>@<mode>[/<operation>@<mode>]" with
  // operations >= 1 and modes to_string(CutMode) spells.
  static std::optional<CutPoint> parse(std::string_view id);
  bool operator==(const CutPoint&) const = default;
};

std::optional<CutMode> cut_mode_from_string(std::string_view name);

struct Plan {
  std::vector<CutMode> modes{CutMode::torn_random};
  // Cuts per mode at this many operations drawn from `seed`; 0 = every
  // operation (of the window), or with `stride` > 1 every stride-th from the
  // first. Either way always the window's last (an action's final write is
  // where a commit usually lands).
  std::uint32_t sample = 0;
  std::uint32_t stride = 1;
  std::uint64_t seed = 1;
  // Only operations in [first, last] (last 0 = the action's last).
  std::uint64_t first = 1;
  std::uint64_t last = 0;
  // Only operations this accepts (empty: all), asked after the measurement
  // (a case that records where each operation landed can answer by
  // partition or kind). The sample, stride and "always the last" then apply
  // to the accepted operations of the window.
  std::function<bool(std::uint64_t operation)> eligible;
  // Replay exactly this cut (the plan's other fields are ignored).
  std::optional<CutPoint> only;
  // Only the points whose position in the full list (mode by mode,
  // operations ascending) is `index` modulo `count`: shard `index` of
  // `count` (0-based). The shards of one plan are disjoint and together are
  // the whole plan; shard {i, n} split again as {j, m} is shard
  // {i + n * j, n * m} — a worker of a shard is a finer shard.
  struct Shard {
    std::uint32_t index = 0;
    std::uint32_t count = 1;  // >= 1
  };
  Shard shard{};
  // Second cuts during the recovery boot of every cut: at `sample` of that
  // boot's operations (0: none; drawn from `seed` and the first cut, so a
  // cut's second cuts are the same in every shard and every replay; all of
  // them when the boot has no more), in each of `modes`.
  struct Recovery {
    std::uint32_t sample = 0;
    std::vector<CutMode> modes{CutMode::torn_partial};
    // Only the boot's operations this accepts (empty: all), asked after
    // verify() (a case that recorded each boot operation's kind can answer
    // by kind); the sample is drawn from those.
    std::function<bool(std::uint64_t boot_operation)> eligible;
  };
  Recovery recovery{};
};

// The points a plan cuts at for an action of `operations` NAND operations:
// mode by mode, operations ascending, then the plan's shard of them. The
// same plan and count give the same points (the sample is drawn from `seed`
// alone, the same for every mode and every shard).
std::vector<CutPoint> cut_points(const Plan& plan, std::uint64_t operations);

// The second cuts a plan makes in the recovery boot after `first`, a boot
// of `boot_operations` NAND operations: boot operations ascending, at each
// the plan's recovery modes in order.
std::vector<CutPoint> recovery_points(const Plan& plan, const CutPoint& first,
                                      std::uint64_t boot_operations);

// What one cut left behind, as the case judges it.
struct Verdict {
  std::string outcome;  // tally label: "old tree", "new tree, backup invalid", ...
  bool failed = false;
  std::string detail;  // for a failure: what was wrong

  static Verdict pass(std::string outcome) { return {std::move(outcome), false, {}}; }
  static Verdict fail(std::string outcome, std::string detail) {
    return {std::move(outcome), true, std::move(detail)};
  }
};

// An action under power cuts. The engine calls, for the measurement and for
// each cut: rewind(), arm() (not for the measurement), act(); then
// operations() after the measurement, verify() after a cut. The flash may be
// in this process (InjectorCase) or behind a control socket.
class Case {
 public:
  virtual ~Case() = default;
  // Brings the module or flash to where the action starts (power on, no
  // cut armed); operations are counted from here.
  virtual void rewind() = 0;
  // Arms a cut at `point`: the point.operation-th NAND operation of the
  // next act(), struck as point.mode says.
  virtual void arm(const CutPoint& point) = 0;
  // Runs the action until it ends or the power goes. Returns true when the
  // power went (the armed cut struck).
  virtual bool act() = 0;
  // The NAND operations since the rewind (read after the uncut act()).
  virtual std::uint64_t operations() = 0;
  // After the cut at `point`: power back, recover as the product would,
  // check. Called only when act() returned true.
  virtual Verdict verify(const CutPoint& point) = 0;
  // What went wrong in the last act() other than a cut, if anything: the
  // detail of a failed uncut run. Empty by default.
  virtual std::string anomaly() { return {}; }

  // Second cuts (Plan::recovery), for a case that can make them. After
  // verify(first): the NAND operations of the boot that power-up ran (0:
  // none can be cut).
  virtual std::uint64_t boot_operations() { return 0; }
  // Then, for each second cut: from the flash the first cut left, power on
  // with the cut armed at point.boot_operation of the boot, power up again
  // once it struck, recover, check. The flash is left as the first cut
  // left it. The case without second cuts never gets this call.
  virtual Verdict verify_second(const CutPoint& point) {
    return Verdict::fail("not cut", "this case makes no second cuts (" + point.id() + ")");
  }
};

// A case whose flash is in this process: cuts are armed on its injector,
// whose operation count rewind() must reset.
class InjectorCase : public Case {
 public:
  virtual FaultInjector& injector() = 0;
  void arm(const CutPoint& point) override {
    (void)injector().arm_power_cut(point.operation, point.mode);
  }
  std::uint64_t operations() override { return injector().operation_count(); }
};

// A case whose cuts can branch off one uncut run of the action
// (FaultInjector::set_branch) instead of replaying the action up to each:
// run_branched() runs the action once, and when it reaches a
// planned operation the case saves the flash, the operation is cut short
// as an armed cut would strike it, the case verifies (power up, recover,
// check) and puts the flash back, and the uncut run goes on. A cut costs
// its recovery only, not the action before it. The cuts and the flash after
// each must be what replaying gives: branch_enter() seeds what arm() seeds.
class BranchingCase : public InjectorCase {
 public:
  // Inside the branch, before the cut at `point`: save the flash as it is
  // (Storage::checkpoint_begin) and seed as arm(point) would.
  virtual void branch_enter(const CutPoint& point) = 0;
  // After verify(): the flash back as saved and powered, so the uncut run
  // goes on as if nothing had happened (Storage::checkpoint_rollback).
  virtual void branch_leave() = 0;
};

struct Failure {
  std::string id;  // CutPoint::id(): replays it
  std::string outcome;
  std::string detail;
};

struct Result {
  std::uint64_t operations = 0;   // NAND operations of the uncut action
  std::uint64_t cuts = 0;         // cuts that struck and were verified
  std::uint64_t not_reached = 0;  // armed points the action ended before
  std::uint64_t failed = 0;
  std::map<std::string, std::uint64_t> tally;  // outcome -> cuts
  std::vector<Failure> failures;               // the first `Options::keep_failures`
  double seconds = 0;                          // wall clock
  bool stopped = false;                        // Options::stop ended it before the plan's end

  std::uint64_t count(const std::string& outcome) const;
  // One line per outcome, then the kept failures with their ids.
  std::string describe() const;
};

struct Options {
  std::size_t keep_failures = 8;
  // Called after each verified cut (progress, per-cut records).
  std::function<void(const CutPoint&, const Verdict&)> on_cut;
  // Asked before each cut: true stops the campaign there (Ctrl-C); the
  // points not cut are neither counted nor "not reached", and the result
  // says it stopped. May be called often: make it cheap (an atomic load).
  std::function<bool()> stop;
};

// Measures the action, then cuts at every point of the plan. The flash is
// left rewound.
Result run(Case& c, const Plan& plan, const Options& options = {});

// The same cuts as run(), each branched off one uncut run of the action
// (every mode's: at a planned operation each of its modes branches in turn).
// on_cut hears them operation by operation, not in the plan's mode-by-mode
// order. A plan's `only` replays its one cut by branching too. An uncut run
// that loses power itself, or ends before a planned operation the
// measurement reached (the action is not repeatable), is a failure with id
// "uncut"; points past the measured action are not reached.
Result run_branched(BranchingCase& c, const Plan& plan, const Options& options = {});

// The NAND operations of one uncut run of the action.
std::uint64_t measure(Case& c);

}  // namespace vmodem::nand::campaign
