// Shard and worker reports of one campaign as one report (report.hpp).
#include <algorithm>

#include "campaign/report.hpp"

namespace vmodem::sim::campaign {

namespace {

constexpr std::size_t kKeptFailures = 64;

std::string shard_name(const Shard& s) {
  return std::to_string(s.index + 1) + "/" + std::to_string(s.count);
}

std::string modes_of(const Report& r) {
  std::string out;
  for (const auto mode : r.modes)
    out += (out.empty() ? "" : ",") + std::string(nand::to_string(mode));
  return out;
}

// The first way `r` differs from `first` that keeps them from being shards
// of one campaign, or "".
std::string difference(const Report& first, const Report& r) {
  auto differs = [](const char* what, const std::string& a, const std::string& b) {
    return std::string(what) + " " + a + ", the first report's " + b;
  };
  if (r.digest != first.digest) {
    return differs("scenario", r.scenario.string() + " (sha256 " + r.digest.substr(0, 12) + ")",
                   first.scenario.string() + " (sha256 " + first.digest.substr(0, 12) + ")");
  }
  if (r.profile != first.profile) return differs("profile", r.profile, first.profile);
  if (r.safe_power_loss != first.safe_power_loss) {
    return differs("power-loss mode", r.safe_power_loss ? "safe" : "real",
                   first.safe_power_loss ? "safe" : "real");
  }
  if (r.seed != first.seed) {
    return differs("seed", std::to_string(r.seed), std::to_string(first.seed));
  }
  if (r.sample != first.sample) {
    return differs("sample", std::to_string(r.sample), std::to_string(first.sample));
  }
  if (r.modes != first.modes) return differs("cut modes", modes_of(r), modes_of(first));
  if (r.shard.count != first.shard.count) {
    return differs("shard", shard_name(r.shard), shard_name(first.shard));
  }
  if (r.operations != first.operations) {
    return differs("operations", std::to_string(r.operations), std::to_string(first.operations)) +
           " (the action is not repeatable?)";
  }
  return {};
}

}  // namespace

Report combine(std::vector<Report> parts, Shard whole) {
  Report out;
  if (parts.empty()) return out;
  out = std::move(parts.front());
  std::vector<CutRecord> cuts = std::move(out.cuts);
  out.cuts.clear();
  out.shard = whole;
  // A failed uncut run has no cut record: its failure is kept as it is.
  std::vector<nand::campaign::Failure> uncut;
  auto keep_uncut = [&uncut](const Report& part) {
    for (const auto& f : part.result.failures) {
      if (!nand::campaign::CutPoint::parse(f.id)) uncut.push_back(f);
    }
  };
  keep_uncut(out);
  out.result.failures.clear();
  for (std::size_t i = 1; i < parts.size(); ++i) {
    Report& p = parts[i];
    keep_uncut(p);
    out.planned += p.planned;
    out.power_ups += p.power_ups;
    out.result.cuts += p.result.cuts;
    out.result.not_reached += p.result.not_reached;
    out.result.failed += p.result.failed;
    out.result.stopped = out.result.stopped || p.result.stopped;
    for (const auto& [outcome, n] : p.result.tally)
      out.result.tally[outcome] += n;
    out.seconds += p.seconds;
    std::move(p.cuts.begin(), p.cuts.end(), std::back_inserter(cuts));
  }
  // The plan's order: mode by mode (as the plan lists them), operations
  // ascending.
  auto rank = [&](nand::CutMode m) {
    return std::find(out.modes.begin(), out.modes.end(), m) - out.modes.begin();
  };
  std::stable_sort(cuts.begin(), cuts.end(), [&](const CutRecord& a, const CutRecord& b) {
    const auto ra = rank(a.point.mode);
    const auto rb = rank(b.point.mode);
    return ra != rb ? ra < rb : a.point.operation < b.point.operation;
  });
  out.result.failures = std::move(uncut);
  for (const auto& cut : cuts) {
    if (cut.failed && out.result.failures.size() < kKeptFailures)
      out.result.failures.push_back({cut.point.id(), cut.outcome, cut.detail});
  }
  out.cuts = std::move(cuts);
  return out;
}

tl::expected<Report, std::string> merge(std::vector<Report> shards) {
  if (shards.empty()) return tl::unexpected(std::string("no report to merge"));
  const std::uint32_t n = std::max<std::uint32_t>(shards.front().shard.count, 1);
  std::vector<int> seen(n, -1);
  for (std::size_t i = 0; i < shards.size(); ++i) {
    const Report& r = shards[i];
    const std::string report = "report " + std::to_string(i + 1);
    if (const std::string why = difference(shards.front(), r); !why.empty()) {
      return tl::unexpected(report + ": not a shard of the same campaign: " += why);
    }
    if (r.shard.index >= n)
      return tl::unexpected(report + ": shard " + shard_name(r.shard) + " is out of range");
    if (seen[r.shard.index] >= 0) {
      return tl::unexpected(report + ": shard " + shard_name(r.shard) + " again (report " +
                            std::to_string(seen[r.shard.index] + 1) + " is that shard too)");
    }
    seen[r.shard.index] = static_cast<int>(i);
  }
  std::string missing;
  for (std::uint32_t i = 0; i < n; ++i) {
    if (seen[i] < 0) missing += (missing.empty() ? "" : ", ") + shard_name({i, n});
  }
  if (!missing.empty()) return tl::unexpected("shard " + missing + " missing: merge every shard");
  // Shard order first, so ties keep a stable, input-independent order.
  std::sort(shards.begin(), shards.end(),
            [](const Report& a, const Report& b) { return a.shard.index < b.shard.index; });
  return combine(std::move(shards), Shard{});
}

}  // namespace vmodem::sim::campaign
