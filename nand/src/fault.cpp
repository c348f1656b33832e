#include <algorithm>
#include <chrono>
#include <optional>
#include <thread>

#include <vmodem/nand/fault.hpp>

namespace vmodem::nand {

std::string_view to_string(CutMode mode) {
  switch (mode) {
    case CutMode::before:
      return "before";
    case CutMode::after:
      return "after";
    case CutMode::torn_partial:
      return "torn_partial";
    case CutMode::torn_unstable:
      return "torn_unstable";
    case CutMode::torn_random:
      return "torn_random";
  }
  return "unknown";
}

std::string_view to_string(FaultEffect effect) {
  switch (effect) {
    case FaultEffect::power_cut:
      return "power_cut";
    case FaultEffect::program_fail:
      return "program_fail";
    case FaultEffect::erase_fail:
      return "erase_fail";
    case FaultEffect::bit_flips:
      return "bit_flips";
    case FaultEffect::uncorrectable:
      return "uncorrectable";
    case FaultEffect::unstable:
      return "unstable";
  }
  return "unknown";
}

std::string_view to_string(Trigger trigger) {
  switch (trigger) {
    case Trigger::nth_match:
      return "nth_match";
    case Trigger::probability:
      return "probability";
    case Trigger::every_match:
      return "every_match";
  }
  return "unknown";
}

std::string_view to_string(OpKind kind) {
  switch (kind) {
    case OpKind::read:
      return "read";
    case OpKind::program:
      return "program";
    case OpKind::erase:
      return "erase";
  }
  return "unknown";
}

namespace {

constexpr std::uint8_t bit(OpKind kind) {
  return static_cast<std::uint8_t>(1U << static_cast<int>(kind));
}

// Effects that act on one page's cells apply to reads and programs only; FAIL
// statuses only to the operation that returns them.
Status validate(const FaultRule& rule) {
  if (rule.ops == 0 || rule.ops > 0b111)
    return fail(Errc::invalid_argument, -1, -1, "rule matches no operation kind");
  if (rule.trigger == Trigger::nth_match && rule.n == 0) {
    return fail(Errc::invalid_argument, -1, -1, "nth_match needs n >= 1");
  }
  if (rule.trigger == Trigger::probability && !(rule.p > 0.0 && rule.p <= 1.0)) {
    return fail(Errc::invalid_argument, -1, -1, "probability must be in (0, 1]");
  }
  switch (rule.effect) {
    case FaultEffect::program_fail:
      if (rule.ops != bit(OpKind::program))
        return fail(Errc::invalid_argument, -1, -1, "program_fail applies to programs only");
      break;
    case FaultEffect::erase_fail:
      if (rule.ops != bit(OpKind::erase))
        return fail(Errc::invalid_argument, -1, -1, "erase_fail applies to erases only");
      break;
    case FaultEffect::bit_flips:
    case FaultEffect::uncorrectable:
    case FaultEffect::unstable:
      if (rule.ops & bit(OpKind::erase)) {
        return fail(Errc::invalid_argument, -1, -1,
                    std::string(to_string(rule.effect)) + " applies to reads and programs only");
      }
      break;
    case FaultEffect::power_cut:
      break;
  }
  return {};
}

}  // namespace

FaultInjector::FaultInjector(SimulatedChip& chip, const PartitionTable* table, std::uint64_t seed)
    : chip_(chip), table_(table), seed_(seed), rng_(seed) {}

void FaultInjector::reseed(std::uint64_t seed) {
  seed_ = seed;
  rng_.reseed(seed);
}

Result<std::uint32_t> FaultInjector::add_rule(FaultRule rule) {
  if (auto ok = validate(rule); !ok) return tl::unexpected(ok.error());
  std::uint32_t first = 0;
  std::uint32_t last = chip_.geometry().block_count - 1;
  if (rule.partition) {
    const PartitionSpec* spec = table_ ? table_->find(*rule.partition) : nullptr;
    if (!spec)
      return fail(Errc::invalid_argument, -1, -1, "no partition named '" + *rule.partition + "'");
    first = spec->first_block;
    last = spec->end_block() - 1;
  }
  if (rule.block_first) first = std::max(first, *rule.block_first);
  if (rule.block_last) last = std::min(last, *rule.block_last);
  if (first > last) return fail(Errc::invalid_argument, -1, -1, "rule's block range is empty");
  if (rule.page && *rule.page >= chip_.geometry().pages_per_block) {
    return fail(Errc::out_of_range, -1, *rule.page, "rule's page is beyond the block");
  }
  const std::uint32_t id = next_id_++;
  rules_.push_back(ActiveRule{id, std::move(rule), first, last});
  return id;
}

bool FaultInjector::remove_rule(std::uint32_t id) {
  const auto it =
      std::find_if(rules_.begin(), rules_.end(), [id](const auto& r) { return r.id == id; });
  if (it == rules_.end()) return false;
  rules_.erase(it);
  return true;
}

void FaultInjector::clear_rules() {
  rules_.clear();
}

std::vector<ArmedRule> FaultInjector::armed_rules() const {
  std::vector<ArmedRule> out;
  out.reserve(rules_.size());
  for (const auto& active : rules_)
    out.push_back({active.id, active.rule, active.matches, active.fires});
  return out;
}

void FaultInjector::cut_power() {
  if (chip_.powered()) drop_countdown_cuts();
  chip_.cut_power();
}

void FaultInjector::power_off() {
  if (chip_.powered()) drop_countdown_cuts();
  chip_.power_off();
}

void FaultInjector::drop_countdown_cuts() {
  std::erase_if(rules_, [](const ActiveRule& active) {
    return active.rule.effect == FaultEffect::power_cut &&
           active.rule.trigger == Trigger::nth_match;
  });
}

void FaultInjector::power_up() {
  chip_.power_up();
}

Result<std::uint32_t> FaultInjector::arm_power_cut(std::uint64_t n, CutMode mode) {
  FaultRule rule;
  rule.trigger = Trigger::nth_match;
  rule.n = n;
  rule.effect = FaultEffect::power_cut;
  rule.cut = mode;
  return add_rule(rule);
}

std::optional<FaultInjector::ActiveRule> FaultInjector::fire(const Op& op) {
  ++operations_;
  if (observer_) observer_(operations_, op.kind, op.addr);
  if (branch_ && !branching_) run_branch(op);
  for (auto it = rules_.begin(); it != rules_.end(); ++it) {
    ActiveRule& active = *it;
    const FaultRule& rule = active.rule;
    if (!(rule.ops & bit(op.kind))) continue;
    if (op.addr.block < active.first || op.addr.block > active.last) continue;
    if (rule.page && (op.kind == OpKind::erase || op.addr.page != *rule.page)) continue;
    ++active.matches;
    bool go = false;
    switch (rule.trigger) {
      case Trigger::nth_match:
        go = active.matches == rule.n;
        break;
      case Trigger::probability:
        go = rng_.chance(rule.p);
        break;
      case Trigger::every_match:
        go = true;
        break;
    }
    if (!go) continue;
    ++active.fires;
    ActiveRule fired = active;
    const bool spent = (rule.max_fires != 0 && active.fires >= rule.max_fires) ||
                       rule.trigger == Trigger::nth_match;
    if (spent) rules_.erase(it);
    return fired;
  }
  return std::nullopt;
}

CutMode FaultInjector::resolve(CutMode mode) {
  if (mode != CutMode::torn_random) return mode;
  return rng_.chance(0.5) ? CutMode::torn_partial : CutMode::torn_unstable;
}

void FaultInjector::record(const ActiveRule& rule, const Op& op, CutMode cut) {
  record(rule.id, rule.rule.effect, op, cut);
}

void FaultInjector::record(std::uint32_t rule_id, FaultEffect effect, const Op& op, CutMode cut) {
  FaultEvent event{rule_id, operations_, op.kind, op.addr.block, op.addr.page, effect, cut};
  history_.push_back(event);
  if (listener_) listener_(event);
}

void FaultInjector::run_branch(const Op& op) {
  // Everything the branch may move, put back afterwards (and before each of
  // its cuts): the run goes on as if the branch had never been taken.
  branch_point_ = {operations_, seed_, rng_, chip_.generator(), rules_, next_id_, history_.size()};
  branching_ = true;
  pending_ = &op;
  branch_(operations_);
  pending_ = nullptr;
  branching_ = false;
  restore(branch_point_);
  branch_point_.rules.clear();
}

void FaultInjector::restore(const BranchPoint& point) {
  operations_ = point.operations;
  seed_ = point.seed;
  rng_ = point.rng;
  chip_.set_generator(point.chip_rng);
  rules_ = point.rules;
  next_id_ = point.next_id;
  history_.erase(history_.begin() + static_cast<std::ptrdiff_t>(point.history), history_.end());
}

Status FaultInjector::rewind_branch() {
  if (!pending_) {
    return fail(Errc::invalid_argument, -1, -1,
                "no branch to rewind (rewind_branch is for a branch)");
  }
  restore(branch_point_);
  return {};
}

Status FaultInjector::cut_pending(CutMode mode) {
  if (!pending_) {
    return fail(Errc::invalid_argument, -1, -1,
                "no operation pending (cut_pending is for a branch)");
  }
  return cut(*pending_, mode, 0);
}

Status FaultInjector::cut(const Op& op, CutMode requested, std::uint32_t rule_id) {
  drop_countdown_cuts();  // they counted this power-on's operations
  CutMode mode = requested;
  switch (op.target) {
    case Target::bad_check:
      mode = CutMode::before;
      break;
    case Target::bad_mark:
      // Writing two marker bytes has no torn state worth modelling: it
      // either landed or it did not.
      mode = requested == CutMode::after ? CutMode::after : CutMode::before;
      break;
    case Target::page:
      mode = resolve(requested);
      break;
  }
  record(rule_id, FaultEffect::power_cut, op, mode);
  // What happens from the cut on draws from a generator seeded here, from
  // the injector's: a cut replays alone, whatever the chip did before it.
  // A cut after an operation lets the operation run as it would have, on
  // the chip's own generator, and reseeds afterwards: its flash is then the
  // uncut run's, and the power-up is shared with a cut before the next
  // operation (Storage::name_deterministic_change).
  // (Writing a bad-block marker draws nothing: it may run after the reseed.)
  const Rng from_the_cut(rng_.next());
  const bool runs_first = mode == CutMode::after && op.target == Target::page &&
                          op.kind != OpKind::read;  // a program or erase that completes
  if (!runs_first) chip_.set_generator(from_the_cut);
  if (op.target != Target::page) {
    if (op.target == Target::bad_mark && mode == CutMode::after)
      (void)chip_.mark_bad(op.addr.block);
    chip_.cut_power();
    return fail(Errc::power_loss, op.addr.block);
  }
  switch (op.kind) {
    case OpKind::read:  // a read changes no cells: every mode leaves the same flash
      chip_.cut_power();
      return fail(Errc::power_loss, op.addr.block, op.addr.page);
    case OpKind::program:
      return cut_program(op, mode, from_the_cut);
    case OpKind::erase:
      return cut_erase(op.addr.block, mode, from_the_cut);
  }
  return fail(Errc::invalid_argument, op.addr.block, op.addr.page, "unknown operation");
}

Status FaultInjector::damage(PageAddr addr, const Damage& damage) {
  return apply(chip_, addr, damage);
}

// Damage that lands on the page before the operation runs.
Status FaultInjector::damage_page(const ActiveRule& rule, const Op& op) {
  switch (rule.rule.effect) {
    case FaultEffect::bit_flips:
      return apply(chip_, op.addr, Damage{Damage::Kind::bit_flips, rule.rule.bits, {}});
    case FaultEffect::uncorrectable: {
      const auto sector = static_cast<std::uint32_t>(rng_.below(chip_.sectors_per_page()));
      return apply(chip_, op.addr, Damage{Damage::Kind::uncorrectable, 0, sector});
    }
    case FaultEffect::unstable:
      return apply(chip_, op.addr, Damage{Damage::Kind::unstable, 0, {}});
    default:
      return {};
  }
}

Status FaultInjector::run_program(const Op& op) {
  return op.partial ? chip_.program_partial(op.addr, op.column, op.bytes)
                    : chip_.program(op.addr, op.main, op.spare);
}

Status FaultInjector::cut_program(const Op& op, CutMode mode, const Rng& from_the_cut) {
  switch (mode) {
    case CutMode::before:
      chip_.cut_power();
      return fail(Errc::power_loss, op.addr.block, op.addr.page);
    case CutMode::after: {
      Status done = run_program(op);
      chip_.set_generator(from_the_cut);
      chip_.cut_power();
      if (!done) return done;
      return fail(Errc::power_loss, op.addr.block, op.addr.page);
    }
    default: {
      const TearMode tear = mode == CutMode::torn_partial ? TearMode::partial : TearMode::unstable;
      return op.partial ? chip_.program_partial_torn(op.addr, op.column, op.bytes, tear)
                        : chip_.program_torn(op.addr, op.main, op.spare, tear);
    }
  }
}

Status FaultInjector::cut_erase(std::uint32_t block, CutMode mode, const Rng& from_the_cut) {
  switch (mode) {
    case CutMode::before:
      chip_.cut_power();
      return fail(Errc::power_loss, block);
    case CutMode::after: {
      Status done = chip_.erase(block);
      chip_.set_generator(from_the_cut);
      chip_.cut_power();
      if (!done) return done;
      return fail(Errc::power_loss, block);
    }
    default:
      return chip_.erase_torn(
          block, mode == CutMode::torn_partial ? TearMode::partial : TearMode::unstable);
  }
}

// A rule that fires on a read: a cut before the chip runs it, or damage to
// the page it then reads. Nothing fired: the read goes on.
Status FaultInjector::before_read(PageAddr addr) {
  const Op op{OpKind::read, addr};
  auto fired = fire(op);
  if (!fired) return {};
  if (fired->rule.effect == FaultEffect::power_cut) return cut(op, fired->rule.cut, fired->id);
  record(*fired, op, fired->rule.cut);
  return damage_page(*fired, op);
}

Result<ReadInfo> FaultInjector::read(PageAddr addr, std::span<std::uint8_t> main,
                                     std::span<std::uint8_t> spare) {
  if (auto ok = before_read(addr); !ok) return tl::unexpected(ok.error());
  return chip_.read(addr, main, spare);
}

Result<ReadInfo> FaultInjector::read_column(PageAddr addr, std::uint32_t column,
                                            std::span<std::uint8_t> out) {
  if (auto ok = before_read(addr); !ok) return tl::unexpected(ok.error());
  return chip_.read_column(addr, column, out);
}

Status FaultInjector::dispatch_program(const Op& op) {
  auto fired = fire(op);
  if (!fired) return run_program(op);
  switch (fired->rule.effect) {
    case FaultEffect::power_cut:
      return cut(op, fired->rule.cut, fired->id);
    case FaultEffect::program_fail:
      record(*fired, op, fired->rule.cut);
      return op.partial ? chip_.program_partial_failing(op.addr, op.column, op.bytes)
                        : chip_.program_failing(op.addr, op.main, op.spare);
    default:
      record(*fired, op, fired->rule.cut);
      if (auto ok = damage_page(*fired, op); !ok) return ok;
      return run_program(op);
  }
}

Status FaultInjector::program(PageAddr addr, std::span<const std::uint8_t> main,
                              std::span<const std::uint8_t> spare) {
  Op op{OpKind::program, addr};
  op.main = main;
  op.spare = spare;
  return dispatch_program(op);
}

Status FaultInjector::program_partial(PageAddr addr, std::uint32_t column,
                                      std::span<const std::uint8_t> bytes) {
  Op op{OpKind::program, addr};
  op.partial = true;
  op.column = column;
  op.bytes = bytes;
  return dispatch_program(op);
}

Status FaultInjector::erase(std::uint32_t block) {
  const Op op{OpKind::erase, {block, 0}};
  auto fired = fire(op);
  if (!fired) return chip_.erase(block);
  if (fired->rule.effect == FaultEffect::erase_fail) {
    record(*fired, op, fired->rule.cut);
    return chip_.erase_failing(block);
  }
  return cut(op, fired->rule.cut, fired->id);
}

Result<bool> FaultInjector::is_bad(std::uint32_t block) {
  const Op op{OpKind::read, {block, 0}, Target::bad_check};
  if (auto fired = fire(op); fired && fired->rule.effect == FaultEffect::power_cut) {
    return tl::unexpected(cut(op, fired->rule.cut, fired->id).error());
  }
  return chip_.is_bad(block);
}

Status FaultInjector::mark_bad(std::uint32_t block) {
  const Op op{OpKind::program, {block, 0}, Target::bad_mark};
  if (auto fired = fire(op); fired && fired->rule.effect == FaultEffect::power_cut) {
    return cut(op, fired->rule.cut, fired->id);
  }
  return chip_.mark_bad(block);
}

}  // namespace vmodem::nand
