#include <charconv>
#include <chrono>
#include <set>
#include <span>

#include <vmodem/nand/campaign.hpp>
#include <vmodem/nand/rng.hpp>

namespace vmodem::nand::campaign {

namespace {

constexpr CutMode kModes[] = {CutMode::before, CutMode::after, CutMode::torn_partial,
                              CutMode::torn_unstable, CutMode::torn_random};

// `pool` (ascending, not empty) thinned as the plan says: every stride-th,
// or a seeded sample; always the pool's last.
std::vector<std::uint64_t> thin(const Plan& plan, const std::vector<std::uint64_t>& pool) {
  std::vector<std::uint64_t> out;
  if (plan.sample == 0 || plan.sample >= pool.size()) {
    const std::size_t stride = std::max<std::uint32_t>(plan.stride, 1);
    for (std::size_t i = 0; i < pool.size(); i += stride)
      out.push_back(pool[i]);
    if (out.back() != pool.back()) out.push_back(pool.back());
    return out;
  }
  Rng rng(plan.seed);
  std::set<std::uint64_t> chosen{pool.back()};
  while (chosen.size() < plan.sample)
    chosen.insert(pool[rng.below(pool.size())]);
  return {chosen.begin(), chosen.end()};
}

// The operations of [first, last] a plan cuts at, ascending.
std::vector<std::uint64_t> operations_of(const Plan& plan, std::uint64_t operations) {
  if (plan.eligible) {
    const std::uint64_t last = plan.last == 0 ? operations : std::min(plan.last, operations);
    std::vector<std::uint64_t> pool;
    for (std::uint64_t n = std::max<std::uint64_t>(plan.first, 1); n <= last; ++n) {
      if (plan.eligible(n)) pool.push_back(n);
    }
    return pool.empty() ? pool : thin(plan, pool);
  }
  const std::uint64_t last = plan.last == 0 ? operations : std::min(plan.last, operations);
  const std::uint64_t first = std::max<std::uint64_t>(plan.first, 1);
  std::vector<std::uint64_t> out;
  if (first > last) return out;
  const std::uint64_t span = last - first + 1;
  if (plan.sample == 0 || plan.sample >= span) {
    const std::uint64_t stride = std::max<std::uint32_t>(plan.stride, 1);
    for (std::uint64_t n = first; n <= last; n += stride)
      out.push_back(n);
    if (out.back() != last) out.push_back(last);
    return out;
  }
  Rng rng(plan.seed);
  std::set<std::uint64_t> chosen{last};  // where a commit usually lands
  while (chosen.size() < plan.sample)
    chosen.insert(first + rng.below(span));
  return {chosen.begin(), chosen.end()};
}

}  // namespace

std::optional<CutMode> cut_mode_from_string(std::string_view name) {
  for (const CutMode mode : kModes) {
    if (to_string(mode) == name) return mode;
  }
  return std::nullopt;
}

std::string CutPoint::id() const {
  std::string out = std::to_string(operation) + "@" + std::string(to_string(mode));
  if (nested())
    out += "/" + std::to_string(boot_operation) + "@" + std::string(to_string(boot_mode));
  return out;
}

namespace {

// "<operation>@<mode>", operation >= 1.
std::optional<std::pair<std::uint64_t, CutMode>> parse_one(std::string_view id) {
  const auto at = id.find('@');
  if (at == std::string_view::npos || at == 0) return std::nullopt;
  std::uint64_t operation = 0;
  const auto number = id.substr(0, at);
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), operation);
  if (ec != std::errc() || end != number.data() + number.size() || operation == 0)
    return std::nullopt;
  const auto mode = cut_mode_from_string(id.substr(at + 1));
  if (!mode) return std::nullopt;
  return std::pair{operation, *mode};
}

}  // namespace

std::optional<CutPoint> CutPoint::parse(std::string_view id) {
  const auto slash = id.find('/');
  const auto first = parse_one(id.substr(0, slash));
  if (!first) return std::nullopt;
  CutPoint point{first->first, first->second};
  if (slash == std::string_view::npos) return point;
  const auto second = parse_one(id.substr(slash + 1));
  if (!second) return std::nullopt;
  point.boot_operation = second->first;
  point.boot_mode = second->second;
  return point;
}

std::vector<CutPoint> recovery_points(const Plan& plan, const CutPoint& first,
                                      std::uint64_t boot_operations) {
  std::vector<CutPoint> out;
  if (plan.recovery.sample == 0 || boot_operations == 0) return out;
  std::vector<std::uint64_t> pool;
  for (std::uint64_t n = 1; n <= boot_operations; ++n) {
    if (!plan.recovery.eligible || plan.recovery.eligible(n)) pool.push_back(n);
  }
  std::set<std::uint64_t> chosen;
  if (plan.recovery.sample >= pool.size()) {
    chosen.insert(pool.begin(), pool.end());
  } else {
    Rng rng(Rng::mix(plan.seed, Rng::mix(first.operation, static_cast<std::uint64_t>(first.mode))));
    while (chosen.size() < plan.recovery.sample)
      chosen.insert(pool[rng.below(pool.size())]);
  }
  for (const std::uint64_t n : chosen) {
    for (const CutMode mode : plan.recovery.modes)
      out.push_back({first.operation, first.mode, n, mode});
  }
  return out;
}

std::vector<CutPoint> cut_points(const Plan& plan, std::uint64_t operations) {
  if (plan.only) return {*plan.only};
  const auto chosen = operations_of(plan, operations);
  const std::uint64_t count = std::max<std::uint32_t>(plan.shard.count, 1);
  std::vector<CutPoint> out;
  out.reserve(chosen.size() * plan.modes.size() / count + 1);
  std::uint64_t position = 0;
  for (const CutMode mode : plan.modes) {
    for (const std::uint64_t n : chosen) {
      if (position++ % count == plan.shard.index) out.push_back({n, mode});
    }
  }
  return out;
}

std::uint64_t Result::count(const std::string& outcome) const {
  const auto it = tally.find(outcome);
  return it == tally.end() ? 0 : it->second;
}

std::string Result::describe() const {
  std::string out = std::to_string(cuts) + " cuts of " + std::to_string(operations) +
                    " operations, " + std::to_string(failed) + " failed";
  if (not_reached > 0) out += ", " + std::to_string(not_reached) + " not reached";
  out += "\n";
  for (const auto& [outcome, n] : tally)
    out += "  " + std::to_string(n) + "  " + outcome + "\n";
  for (const auto& f : failures)
    out += "  FAILED at " + f.id + " (" + f.outcome + "): " + f.detail + "\n";
  return out;
}

std::uint64_t measure(Case& c) {
  c.rewind();
  (void)c.act();
  const std::uint64_t operations = c.operations();
  c.rewind();
  return operations;
}

namespace {

void count(Result& result, const CutPoint& point, const Verdict& verdict, const Options& options) {
  ++result.cuts;
  ++result.tally[verdict.outcome];
  if (verdict.failed) {
    ++result.failed;
    if (result.failures.size() < options.keep_failures)
      result.failures.push_back({point.id(), verdict.outcome, verdict.detail});
  }
  if (options.on_cut) options.on_cut(point, verdict);
}

// verify() at the cut, then the plan's second cuts in its recovery boot. A
// plan that replays one cut (`only`) makes that cut alone: a second cut's
// first cut is verified, not counted (or the boot is too short for it).
void verify_cut(Case& c, const Plan& plan, const CutPoint& point, Result& result,
                const Options& options) {
  const CutPoint first = point.first();
  const Verdict verdict = c.verify(first);
  if (point.nested()) {
    if (point.boot_operation > c.boot_operations()) {
      ++result.not_reached;
      return;
    }
    count(result, point, c.verify_second(point), options);
    return;
  }
  count(result, first, verdict, options);
  if (plan.only) return;  // a replay of the first cut alone
  for (const CutPoint& second : recovery_points(plan, first, c.boot_operations())) {
    if (options.stop && options.stop()) {
      result.stopped = true;
      return;
    }
    count(result, second, c.verify_second(second), options);
  }
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void fail_uncut(Result& result, std::string detail, const Options& options) {
  ++result.failed;
  if (result.failures.size() < options.keep_failures)
    result.failures.push_back({"uncut", "uncut run", std::move(detail)});
}

// Cuts at `points` (operations ascending; at one operation its modes in the
// plan's order) branched off one uncut run of the action: at a planned
// operation each of its cuts branches in turn, the flash put back after
// each, so every mode's cut there starts from the same flash.
void branch_one_run(BranchingCase& c, const Plan& plan, std::span<const CutPoint> points,
                    Result& result, const Options& options) {
  c.rewind();
  std::size_t next = 0;
  c.injector().set_branch([&](std::uint64_t operation) {
    while (next < points.size() && points[next].operation == operation) {
      if (options.stop && options.stop()) {
        result.stopped = true;
        next = points.size();  // the rest neither cut nor "not reached"
        return;
      }
      const CutPoint point = points[next++];
      (void)c.injector().rewind_branch();  // as the uncut run left it, whatever cut came before
      c.branch_enter(point.first());
      (void)c.injector().cut_pending(point.mode);
      verify_cut(c, plan, point, result, options);
      c.branch_leave();
    }
  });
  const bool lost_power = c.act();
  c.injector().set_branch({});
  if (result.stopped) return;
  std::uint64_t short_of = 0;  // planned, inside the measured action, never reached
  for (std::size_t i = next; i < points.size(); ++i) {
    ++result.not_reached;
    if (points[i].operation <= result.operations) ++short_of;
  }
  if (lost_power) {
    const std::string why = c.anomaly();
    fail_uncut(result, why.empty() ? "the action lost power without a cut" : why, options);
  } else if (short_of > 0) {
    fail_uncut(result,
               "the uncut run ended " + std::to_string(short_of) +
                   " planned operation(s) before the measured " + std::to_string(result.operations),
               options);
  }
}

}  // namespace

Result run(Case& c, const Plan& plan, const Options& options) {
  const auto start = std::chrono::steady_clock::now();
  Result result;
  result.operations = measure(c);
  for (const CutPoint& point : cut_points(plan, result.operations)) {
    if (options.stop && options.stop()) {
      result.stopped = true;
      break;
    }
    c.rewind();
    c.arm(point.first());
    if (!c.act()) {
      ++result.not_reached;
      continue;
    }
    verify_cut(c, plan, point, result, options);
  }
  c.rewind();
  result.seconds = seconds_since(start);
  return result;
}

Result run_branched(BranchingCase& c, const Plan& plan, const Options& options) {
  const auto start = std::chrono::steady_clock::now();
  Result result;
  result.operations = measure(c);
  std::vector<CutPoint> points = cut_points(plan, result.operations);
  // cut_points() lists them mode by mode: one uncut run takes them all,
  // operation by operation (stable: an operation's modes in the plan's order).
  std::ranges::stable_sort(points, {}, &CutPoint::operation);
  branch_one_run(c, plan, points, result, options);
  c.rewind();
  result.seconds = seconds_since(start);
  return result;
}

}  // namespace vmodem::nand::campaign
