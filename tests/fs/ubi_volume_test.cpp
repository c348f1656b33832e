// The NAND file system inside a UBI volume (Medium::ubi): what the EC2x
// family's system and usr_data partitions run on. Quick tier: files written,
// read back after UBI and the file system attach again, and a seeded sample
// of power cuts over every standard workload; full tier (PowerLossUbiFull):
// a cut at every NAND operation.
#include <cstdio>

#include "powerloss.hpp"
#include "test_seed.hpp"
#include "tier.hpp"

namespace vmodem::fs::testing {
namespace {

TEST(UbiVolume, FilesWrittenInsideAUbiVolumeSurviveAttachAndMount) {
  Rig rig(24, Config{}, nand::ChipConfig{}, 64, Medium::ubi);
  rig.format();
  // 1984 bytes of main area per 2048-byte NAND page: the spare is in-band.
  EXPECT_EQ(rig.volume->geometry().page_size, 1984u);
  EXPECT_EQ(rig.volume->geometry().pages_per_block, 62u);
  FileSystem& fs = rig.mount();
  ASSERT_TRUE(fs.mkdir("/appbackup"));
  const auto app = bytes(150'000, 1);  // spans LEBs
  ASSERT_TRUE(fs.write_file("/appbackup/app.bin", app));
  ASSERT_TRUE(fs.write_file("/appbackup/app_ver.txt", text("3\n")));
  FileSystem& again = rig.remount();
  EXPECT_EQ(again.read_file("/appbackup/app.bin").value(), app);
  EXPECT_EQ(again.read_file("/appbackup/app_ver.txt").value(), text("3\n"));
  EXPECT_TRUE(again.check().ok());
}

void run_all(std::uint32_t sample) {
  const std::uint64_t seed = vmodem::testing::test_seed(20261207);
  std::printf("power-loss campaign on a UBI volume, %s\n", sample ? "sampled" : "exhaustive");
  for (const auto& w : standard_workloads()) {
    for (const auto mode : {nand::CutMode::before, nand::CutMode::after,
                            nand::CutMode::torn_partial, nand::CutMode::torn_unstable}) {
      const auto r = run_campaign(w, mode, sample, seed, Medium::ubi);
      print_row(w.name, mode, r);
      if (mode == nand::CutMode::torn_unstable) continue;
      EXPECT_EQ(r.failed, 0u) << w.name << " " << nand::to_string(mode) << "\n" << r.describe();
      EXPECT_GT(r.cuts, 0u);
    }
  }
}

TEST(PowerLossUbi, SampledCutsEveryWorkloadEveryMode) {
  run_all(12);
}
TEST(PowerLossUbiFull, EveryOperationEveryWorkloadEveryMode) {
  VMODEM_FULL_TIER_ONLY();
  run_all(0);
}

}  // namespace
}  // namespace vmodem::fs::testing
