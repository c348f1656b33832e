// Partitions: validation, bad-block skipping, logical addressing.
#include <vmodem/nand/partition.hpp>
#include <vmodem/nand/stats.hpp>

#include "nand_fixture.hpp"

namespace vmodem::nand::testing {
namespace {

using Partitions = ChipFixture;

TEST_F(Partitions, TableRejectsOverlapsGapsBeyondTheChipAndDuplicates) {
  EXPECT_TRUE(PartitionTable::create({{"a", 0, 4}, {"b", 4, 4}}, g()));
  auto overlap = PartitionTable::create({{"a", 0, 5}, {"b", 4, 4}}, g());
  ASSERT_FALSE(overlap);
  EXPECT_NE(overlap.error().detail.find("overlap"), std::string::npos);
  EXPECT_FALSE(PartitionTable::create({{"a", 30, 4}}, g()));
  EXPECT_FALSE(PartitionTable::create({{"a", 0, 0}}, g()));
  EXPECT_FALSE(PartitionTable::create({{"a", 0, 2}, {"a", 2, 2}}, g()));
  EXPECT_FALSE(PartitionTable::create({{"", 0, 2}}, g()));
}

TEST_F(Partitions, LogicalBlocksSkipBadBlocks) {
  FactoryBadBlocks bad;
  bad.blocks = {5, 7};
  ASSERT_TRUE(manufacture_bad_blocks(*chip, bad));
  auto part = Partition::open(*chip, {"efs", 4, 6}).value();
  EXPECT_EQ(part->geometry().block_count, 4U);
  EXPECT_EQ(part->physical_block(0), 4U);
  EXPECT_EQ(part->physical_block(1), 6U);
  EXPECT_EQ(part->physical_block(2), 8U);
  EXPECT_EQ(part->bad_blocks(), (std::vector<std::uint32_t>{5, 7}));

  const auto data = pattern(g().page_size, 31);
  ASSERT_TRUE(part->program({1, 0}, data, {}));
  auto main = main_buf();
  ASSERT_TRUE(chip->read({6, 0}, main, {}));
  EXPECT_EQ(main, data) << "logical block 1 is physical block 6";
  EXPECT_EQ(part->erase(4).error().code, Errc::out_of_range);
}

TEST_F(Partitions, MarkBadKeepsAddressesUntilRescan) {
  auto part = Partition::open(*chip, {"ufs", 10, 4}).value();
  ASSERT_TRUE(part->mark_bad(1));
  EXPECT_EQ(part->physical_block(2), 12U) << "stable while open";
  EXPECT_EQ(part->bad_blocks(), (std::vector<std::uint32_t>{11}));
  ASSERT_TRUE(part->rescan());
  EXPECT_EQ(part->geometry().block_count, 3U);
  EXPECT_EQ(part->physical_block(1), 12U);
}

TEST_F(Partitions, StatsByPartition) {
  auto table = PartitionTable::create({{"a", 0, 4}, {"b", 8, 4}}, g()).value();
  ASSERT_TRUE(chip->erase(1));
  ASSERT_TRUE(chip->erase(9));
  ASSERT_TRUE(chip->erase(9));
  ASSERT_TRUE(chip->program({9, 0}, pattern(g().page_size, 1), {}));
  const auto stats = collect_stats(*storage, &table);
  ASSERT_EQ(stats.areas.size(), 4U);  // a, gap, b, tail
  EXPECT_EQ(stats.areas[0].name, "a");
  EXPECT_EQ(stats.areas[0].erases, 1U);
  EXPECT_EQ(stats.areas[1].name, "(unpartitioned)");
  EXPECT_EQ(stats.areas[2].name, "b");
  EXPECT_EQ(stats.areas[2].erases, 2U);
  EXPECT_EQ(stats.areas[2].programs, 1U);
  EXPECT_EQ(stats.areas[2].max_erase, 2U);
  EXPECT_EQ(stats.counters.erases, 3U);
  std::uint32_t histogram_blocks = 0;
  for (const auto& bucket : stats.wear)
    histogram_blocks += bucket.blocks;
  EXPECT_EQ(histogram_blocks, g().block_count);
}

}  // namespace
}  // namespace vmodem::nand::testing
