// Fault injection: a Device layered over the simulated chip.
//
// Every operation passes through here first. Rules match operations (kind,
// partition / block range / page) and fire once, at the Nth match, with a
// seeded probability, or every time; a firing rule provokes an effect: a power
// cut (clean before or after the operation, or tearing it the way silicon
// tears), a program/erase FAIL (grown bad block), bit flips, an uncorrectable
// page or an unstable page. The injector counts every operation, so a cut
// can be armed "at operation N from now".
//
// All random choices come from the injector's seed (logged by the caller), so
// a run replays exactly.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <vmodem/nand/chip.hpp>
#include <vmodem/nand/damage.hpp>
#include <vmodem/nand/partition.hpp>

namespace vmodem::nand {

// How a power cut treats the operation it strikes.
enum class CutMode : std::uint8_t {
  before,         // the operation never starts
  after,          // the operation completes, then power goes (caller never sees success)
  torn_partial,   // TearMode::partial
  torn_unstable,  // TearMode::unstable
  torn_random,    // one of the two torn modes, drawn from the seed per cut
};

enum class FaultEffect : std::uint8_t {
  power_cut,
  program_fail,   // the matched program reports FAIL; block fails for good
  erase_fail,     // the matched erase reports FAIL; block fails for good
  bit_flips,      // `bits` persistent flips in the matched page before the operation
  uncorrectable,  // t+1 flips in one sector of the matched page before the operation
  unstable,       // the matched page becomes unstable before the operation
};

enum class Trigger : std::uint8_t {
  nth_match,    // fires at match number `n` (1 = the next matching operation)
  probability,  // each match fires with probability `p`
  every_match,  // every match fires
};

std::string_view to_string(CutMode mode);
std::string_view to_string(FaultEffect effect);
std::string_view to_string(OpKind kind);
std::string_view to_string(Trigger trigger);

struct FaultRule {
  // Operation kinds matched: bit (1 << OpKind).
  std::uint8_t ops = 0b111;
  std::optional<std::string> partition;      // limits blocks to the partition's range
  std::optional<std::uint32_t> block_first;  // physical, inclusive
  std::optional<std::uint32_t> block_last;   // physical, inclusive
  std::optional<std::uint32_t> page;         // page in block
  Trigger trigger = Trigger::nth_match;
  std::uint64_t n = 1;
  double p = 0.0;
  std::uint32_t max_fires = 1;  // 0 = unlimited
  FaultEffect effect = FaultEffect::power_cut;
  CutMode cut = CutMode::torn_random;
  std::uint32_t bits = 1;  // for bit_flips
};

// One firing, reported to the listener and kept in history().
struct FaultEvent {
  std::uint32_t rule_id;
  std::uint64_t operation;  // injector's operation number (1-based)
  OpKind op;
  std::uint32_t block;  // physical
  std::uint32_t page;
  FaultEffect effect;
  CutMode cut;  // for power_cut: the mode applied (torn_random resolved)
};

// A rule still armed: its id, what it matches and does, and how far it got.
struct ArmedRule {
  std::uint32_t id;
  FaultRule rule;
  std::uint64_t matches;  // operations it matched so far
  std::uint32_t fires;    // times it fired (a spent rule is gone)
};

class FaultInjector final : public Device {
 public:
  // `chip` and `table` (may be null) must outlive the injector.
  FaultInjector(SimulatedChip& chip, const PartitionTable* table, std::uint64_t seed);

  const Geometry& geometry() const override { return chip_.geometry(); }
  Result<ReadInfo> read(PageAddr addr, std::span<std::uint8_t> main,
                        std::span<std::uint8_t> spare) override;
  Result<ReadInfo> read_column(PageAddr addr, std::uint32_t column,
                               std::span<std::uint8_t> out) override;
  Status program(PageAddr addr, std::span<const std::uint8_t> main,
                 std::span<const std::uint8_t> spare) override;
  Status program_partial(PageAddr addr, std::uint32_t column,
                         std::span<const std::uint8_t> bytes) override;
  Status erase(std::uint32_t block) override;
  Result<bool> is_bad(std::uint32_t block) override;
  Status mark_bad(std::uint32_t block) override;

  // Adds a rule; returns its id. invalid_argument for an unknown partition, an
  // empty op mask, n == 0, or an effect that cannot apply to the ops matched.
  Result<std::uint32_t> add_rule(FaultRule rule);
  bool remove_rule(std::uint32_t id);
  void clear_rules();
  std::size_t rule_count() const { return rules_.size(); }
  // The rules armed now, oldest first.
  std::vector<ArmedRule> armed_rules() const;

  // Shorthand: power cut at the `n`th operation from now (any kind, anywhere).
  Result<std::uint32_t> arm_power_cut(std::uint64_t n, CutMode mode);
  // A count-down power cut (effect power_cut, trigger nth_match) counts the
  // operations of the power-on it was armed in: when the power goes first
  // (another cut, cut_power()), it is dropped unfired. One armed while the
  // chip is off counts from the next power-up. Power cuts by probability or
  // on every match stay until removed.

  // --- threads ---
  // An injector is single-threaded, like the chip under it. A flash that
  // several threads reach is owned by a SharedDevice (shared_device.hpp),
  // which holds one lock around each operation and around any other use.

  // The chip's power switch (drops count-down cuts armed for this power-on).
  void cut_power();
  // The same after an orderly shutdown (reset, power-off): not counted as a
  // power cut; count-down cuts armed for this power-on are dropped too.
  void power_off();
  void power_up();
  // Damages the chip now (ctl inject, image inject) as a rule's damage
  // would as an operation passes: the one path to the chip for it.
  Status damage(PageAddr addr, const Damage& damage);

  // Operations seen by the injector since construction (or reset_operation_count).
  std::uint64_t operation_count() const { return operations_; }
  void reset_operation_count() { operations_ = 0; }
  const std::vector<FaultEvent>& history() const { return history_; }
  // Called inside the operation a rule fires on (power cut included), on
  // the operation's thread: it must not call back into the device.
  void set_listener(std::function<void(const FaultEvent&)> listener) {
    listener_ = std::move(listener);
  }
  // Told of every operation as it is counted (its number, kind and physical
  // page; a block's first page for an erase or bad-block check), before any
  // rule or branch sees it: a campaign records where an action's operations
  // land to choose its cut points by partition and kind. It must not call
  // back into the device. Empty (the default): nothing is told.
  using Observer = std::function<void(std::uint64_t operation, OpKind kind, PageAddr addr)>;
  void set_observer(Observer observer) { observer_ = std::move(observer); }
  std::uint64_t seed() const { return seed_; }
  void reseed(std::uint64_t seed);
  SimulatedChip& chip() { return chip_; }

  // --- branching: crash-state exploration over one uncut run ---
  // A campaign that cuts power at every operation of a run need not replay
  // the run up to each cut: with a branch set, the injector calls it before
  // each operation is carried out, with the operation's number
  // (operation_count(), 1-based since the last reset). Inside, the branch
  // may call cut_pending() to apply that operation cut short, exactly as a
  // power-cut rule firing on it would; then power up, boot, look around, and
  // put the flash back (Storage::checkpoint_*) with power on — and cut it
  // again (rewind_branch(), then cut_pending()) as often as it likes.
  // Operations inside the branch do not branch again. When the branch
  // returns, the injector's count, seed, generator, rules and history and the
  // chip's generator are as they were, and the operation goes ahead as if
  // nothing had happened. An empty function removes the branch.
  void set_branch(std::function<void(std::uint64_t operation)> branch) {
    branch_ = std::move(branch);
  }
  // Inside a branch: the pending operation, struck by a power cut `mode`
  // (torn_random drawn from the injector's generator, as for a rule). Returns
  // what the operation returns to its caller (power_loss, or the chip's
  // refusal). May be called again after the caller has put the flash back,
  // powered it up and called rewind_branch(). invalid_argument outside a
  // branch.
  Status cut_pending(CutMode mode);
  // Inside a branch, before another cut of the same operation: the
  // injector's count, seed, generator, rules and history and the chip's
  // generator back as the uncut run left them at the operation (what an
  // earlier cut and its verification moved). invalid_argument outside a
  // branch.
  Status rewind_branch();

 private:
  struct ActiveRule {
    std::uint32_t id;
    FaultRule rule;
    std::uint32_t first, last;  // resolved physical block range
    std::uint64_t matches = 0;
    std::uint32_t fires = 0;
  };
  // What an operation addresses: a page, or a block's bad-block marker.
  enum class Target : std::uint8_t { page, bad_check, bad_mark };
  struct Op {
    OpKind kind;
    PageAddr addr;
    Target target = Target::page;
    bool partial = false;
    std::span<const std::uint8_t> main{}, spare{};  // full program
    std::uint32_t column = 0;                       // partial program
    std::span<const std::uint8_t> bytes{};
  };
  // Counts the operation and returns the rule that fires on it, if any
  // (a copy: a spent rule is removed).
  std::optional<ActiveRule> fire(const Op& op);
  Status damage_page(const ActiveRule& rule, const Op& op);
  Status before_read(PageAddr addr);
  Status dispatch_program(const Op& op);
  Status run_program(const Op& op);
  // The power cut a rule (or cut_pending) brings down on `op`: recorded
  // with `rule_id`, the chip's generator reseeded, the op torn or not.
  Status cut(const Op& op, CutMode requested, std::uint32_t rule_id);
  Status cut_program(const Op& op, CutMode mode, const Rng& from_the_cut);
  Status cut_erase(std::uint32_t block, CutMode mode, const Rng& from_the_cut);
  // What a branch may move, put back after it and before each of its cuts.
  struct BranchPoint {
    std::uint64_t operations = 0;
    std::uint64_t seed = 0;
    Rng rng{0};
    Rng chip_rng{0};
    std::vector<ActiveRule> rules;
    std::uint32_t next_id = 0;
    std::size_t history = 0;
  };
  void run_branch(const Op& op);
  void restore(const BranchPoint& point);
  CutMode resolve(CutMode mode);
  void drop_countdown_cuts();
  void record(const ActiveRule& rule, const Op& op, CutMode cut);
  void record(std::uint32_t rule_id, FaultEffect effect, const Op& op, CutMode cut);

  SimulatedChip& chip_;
  const PartitionTable* table_;
  std::uint64_t seed_;
  Rng rng_;
  std::vector<ActiveRule> rules_;
  std::uint32_t next_id_ = 1;
  std::uint64_t operations_ = 0;
  std::vector<FaultEvent> history_;
  std::function<void(const FaultEvent&)> listener_;
  Observer observer_;
  std::vector<std::uint8_t> scratch_;
  std::function<void(std::uint64_t)> branch_;
  const Op* pending_ = nullptr;  // inside a branch
  BranchPoint branch_point_;     // inside a branch: the uncut run's state
  bool branching_ = false;
};

}  // namespace vmodem::nand
