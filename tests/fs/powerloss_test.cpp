// Quick tier: a seeded sample of power cuts per workload and mode; full tier
// (PowerLossFull): a cut at every operation.
// Committed data must never be lost in the before / after / torn_partial
// modes, and mount must never fail a check there (a torn last write is
// explained by design). torn_unstable (the NAND lies: the last page reads
// differently each time) is reported, not asserted.
#include "powerloss.hpp"

#include <cstdio>
#include <cstdlib>

#include "test_seed.hpp"
#include "tier.hpp"

namespace vmodem::fs::testing {
namespace {

void run_all(std::uint32_t sample) {
  const std::uint64_t seed = vmodem::testing::test_seed(20240601);
  std::printf("power-loss campaign, %s\n", sample ? "sampled" : "exhaustive");
  std::uint64_t cuts = 0;
  double seconds = 0;
  for (const auto& w : standard_workloads()) {
    for (const auto mode : {nand::CutMode::before, nand::CutMode::after,
                            nand::CutMode::torn_partial, nand::CutMode::torn_unstable}) {
      const auto r = run_campaign(w, mode, sample, seed);
      print_row(w.name, mode, r);
      cuts += r.cuts;
      seconds += r.seconds;
      if (mode == nand::CutMode::torn_unstable) continue;
      // Nothing lost or unreadable, every mount passes its checks and fsck,
      // the volume keeps working after the recovery.
      EXPECT_EQ(r.failed, 0u) << w.name << " " << nand::to_string(mode) << "\n" << r.describe();
      EXPECT_GT(r.cuts, 0u);
    }
  }
  std::printf("total: %llu cuts in %.2fs (%.0f cuts/s)\n", static_cast<unsigned long long>(cuts),
              seconds, cuts / std::max(seconds, 1e-9));
}

TEST(PowerLoss, SampledCutsEveryWorkloadEveryMode) {
  run_all(40);
}
TEST(PowerLossFull, EveryOperationEveryWorkloadEveryMode) {
  VMODEM_FULL_TIER_ONLY();
  run_all(0);
}

}  // namespace
}  // namespace vmodem::fs::testing
