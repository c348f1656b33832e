// Copy-on-write snapshots: rollback restores exactly, costs what was touched.
#include <vmodem/nand/fault.hpp>

#include "nand_fixture.hpp"
#include "temp_dir.hpp"

namespace vmodem::nand::testing {
namespace {

using Snapshots = ChipFixture;

void workload(SimulatedChip& chip, std::uint32_t salt) {
  for (std::uint32_t b = 2; b < 6; ++b) {
    ASSERT_TRUE(chip.erase(b));
    for (std::uint32_t p = 0; p < 5; ++p)
      ASSERT_TRUE(chip.program({b, p}, pattern(2048, b * 100 + p + salt), {}));
  }
  ASSERT_TRUE(chip.inject_bit_flips({3, 1}, 3));
  ASSERT_FALSE(chip.erase_torn(4, TearMode::partial));
  chip.power_up();
  ASSERT_TRUE(chip.make_unstable({5, 0}));
  std::vector<std::uint8_t> main(2048);
  (void)chip.read({5, 0}, main, {});
}

TEST_F(Snapshots, RollbackRestoresExactlyAndRepeatedly) {
  workload(*chip, 0);
  const auto at_snapshot = fingerprint(*storage);
  storage->snapshot_begin();
  for (std::uint32_t round = 1; round <= 3; ++round) {
    workload(*chip, round);
    EXPECT_NE(fingerprint(*storage), at_snapshot);
    EXPECT_EQ(storage->snapshot_dirty_blocks(), 4U);
    storage->snapshot_rollback();
    EXPECT_EQ(fingerprint(*storage), at_snapshot) << "round " << round;
    EXPECT_EQ(storage->snapshot_dirty_blocks(), 0U);
  }
  EXPECT_EQ(storage->snapshot_saved_blocks(), 4U) << "saved copies are reused across rollbacks";
}

// Rollback rewrites only the pages changed since the last one: whatever mix
// of page programs without an erase, an erase followed by fewer programs than
// the block held, damage and a torn erase, the device comes back exactly.
TEST_F(Snapshots, PageGranularRollbackRestoresEveryKindOfChange) {
  workload(*chip, 0);
  ASSERT_TRUE(chip->program({6, 0}, pattern(2048, 60), {}));
  const auto at_snapshot = fingerprint(*storage);
  storage->snapshot_begin();
  for (std::uint32_t round = 1; round <= 4; ++round) {
    // Pages appended to blocks holding data (no erase).
    ASSERT_TRUE(chip->program({2, 5 + round}, pattern(2048, 200 + round), {}));
    ASSERT_TRUE(chip->program({6, round}, pattern(2048, 300 + round), {}));
    // An erase and fewer programs than the block held at the snapshot.
    ASSERT_TRUE(chip->erase(3));
    ASSERT_TRUE(chip->program({3, 0}, pattern(2048, 400 + round), {}));
    // Damage on a page that was clean, and on an erased page.
    ASSERT_TRUE(chip->inject_bit_flips({5, round % 5}, 2));
    ASSERT_TRUE(chip->inject_bit_flips({7, round}, 1));
    if (round % 2) {
      ASSERT_FALSE(chip->erase_torn(5, TearMode::partial));
      chip->power_up();
    }
    EXPECT_NE(fingerprint(*storage), at_snapshot);
    storage->snapshot_rollback();
    EXPECT_EQ(fingerprint(*storage), at_snapshot) << "round " << round;
  }
}

TEST_F(Snapshots, ReadsCostOnlyMetadata) {
  ASSERT_TRUE(chip->program({7, 0}, pattern(2048, 1), {}));
  storage->snapshot_begin();
  std::vector<std::uint8_t> main(2048);
  ASSERT_TRUE(chip->read({7, 0}, main, {}));
  const auto reads = storage->block_meta(7).reads;
  storage->snapshot_rollback();
  EXPECT_EQ(storage->block_meta(7).reads, reads - 1);
}

TEST_F(Snapshots, EndKeepsTheCurrentState) {
  storage->snapshot_begin();
  ASSERT_TRUE(chip->erase(1));
  storage->snapshot_end();
  EXPECT_FALSE(storage->snapshot_active());
  EXPECT_EQ(storage->block_meta(1).erase_count, 1U);
  storage->snapshot_rollback();  // no snapshot: nothing happens
  EXPECT_EQ(storage->block_meta(1).erase_count, 1U);
}

TEST(SnapshotsOnImage, RollbackWorksOnMappedFiles) {
  vmodem::testing::TempDir dir;
  auto storage = Storage::create_image(dir / "n.img", small_geometry()).value();
  SimulatedChip chip(*storage, {});
  const auto before = fingerprint(*storage);
  storage->snapshot_begin();
  workload(chip, 7);
  storage->snapshot_rollback();
  EXPECT_EQ(fingerprint(*storage), before);
}

}  // namespace
}  // namespace vmodem::nand::testing
