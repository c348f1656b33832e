// The ECC model: per-sector correction strength, corrected vs. uncorrectable,
// bit errors from wear and read disturb drawn from the seed.
#include "nand_fixture.hpp"

namespace vmodem::nand::testing {
namespace {

using Ecc = ChipFixture;

TEST_F(Ecc, UpToStrengthBitsPerSectorAreCorrected) {
  const auto data = pattern(g().page_size, 11);
  ASSERT_TRUE(chip->program({1, 0}, data, {}));
  const std::uint32_t t = chip->config().ecc.strength_bits;
  ASSERT_TRUE(chip->inject_bit_flips({1, 0}, t, 2));
  auto main = main_buf();
  auto info = chip->read({1, 0}, main, {});
  ASSERT_TRUE(info);
  EXPECT_EQ(info->corrected_bits, t);
  EXPECT_EQ(info->max_sector_corrected, t);
  EXPECT_EQ(main, data);
  EXPECT_EQ(storage->counters().corrected_reads, 1U);
  EXPECT_EQ(storage->counters().corrected_bits, t);
}

TEST_F(Ecc, OneBitMoreIsUncorrectableAndReturnsTheDamagedBits) {
  const auto data = pattern(g().page_size, 12);
  ASSERT_TRUE(chip->program({1, 0}, data, {}));
  const std::uint32_t t = chip->config().ecc.strength_bits;
  ASSERT_TRUE(chip->inject_bit_flips({1, 0}, t + 1, 1));
  auto main = main_buf();
  auto info = chip->read({1, 0}, main, {});
  ASSERT_FALSE(info);
  EXPECT_EQ(info.error().code, Errc::uncorrectable);
  EXPECT_EQ(storage->counters().uncorrectable_reads, 1U);
  // Sector 1 holds t+1 wrong bits; the other sectors came back intact.
  std::uint32_t wrong = 0;
  for (std::size_t i = 0; i < main.size(); ++i)
    wrong += std::popcount(static_cast<unsigned>(main[i] ^ data[i]));
  EXPECT_EQ(wrong, t + 1);
  EXPECT_TRUE(std::equal(main.begin(), main.begin() + 512, data.begin()));
}

// A column read of the page's first bytes returns them as programmed, and
// the ECC still judges the whole page: damage beyond the prefix that ECC
// corrects is counted, damage it cannot correct fails the read.
TEST_F(Ecc, PrefixReadsReturnTheFirstBytesAndCheckTheWholePage) {
  const auto data = pattern(g().page_size, 14);
  ASSERT_TRUE(chip->program({1, 0}, data, {}));
  std::vector<std::uint8_t> prefix(100);
  ASSERT_TRUE(chip->read({1, 0}, prefix, {}));
  EXPECT_TRUE(std::equal(prefix.begin(), prefix.end(), data.begin()));

  const std::uint32_t t = chip->config().ecc.strength_bits;
  ASSERT_TRUE(chip->inject_bit_flips({1, 0}, t, 3));
  auto info = chip->read({1, 0}, prefix, {});
  ASSERT_TRUE(info);
  EXPECT_EQ(info->corrected_bits, t);
  EXPECT_TRUE(std::equal(prefix.begin(), prefix.end(), data.begin()));

  ASSERT_TRUE(chip->program({1, 1}, data, {}));
  ASSERT_TRUE(chip->inject_bit_flips({1, 1}, t + 1, 3));
  auto failed = chip->read({1, 1}, prefix, {});
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, Errc::uncorrectable);
}

// A column read from mid-page (what UBI does for a VID header or a volume
// page's in-band tags) returns those bytes as programmed, is one counted
// read, and gets the same ECC verdict as a read of the whole page.
TEST_F(Ecc, ColumnReadsReturnTheBytesThereAndCheckTheWholePage) {
  const auto data = pattern(g().page_size, 15);
  ASSERT_TRUE(chip->program({1, 0}, data, {}));
  std::vector<std::uint8_t> window(64);
  const std::uint32_t column = g().page_size - 64;
  const auto reads_before = storage->counters().reads;
  ASSERT_TRUE(chip->read_column({1, 0}, column, window));
  EXPECT_EQ(storage->counters().reads, reads_before + 1);
  EXPECT_TRUE(std::equal(window.begin(), window.end(), data.begin() + column));

  const std::uint32_t t = chip->config().ecc.strength_bits;
  ASSERT_TRUE(chip->inject_bit_flips({1, 0}, t, 0));  // in sector 0, not the window's
  auto info = chip->read_column({1, 0}, column, window);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->corrected_bits, t);
  EXPECT_TRUE(std::equal(window.begin(), window.end(), data.begin() + column));

  ASSERT_TRUE(chip->program({1, 1}, data, {}));
  ASSERT_TRUE(chip->inject_bit_flips({1, 1}, t + 1, 0));
  auto failed = chip->read_column({1, 1}, column, window);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, Errc::uncorrectable);

  // Past the main area: refused, and still counted as an operation.
  const auto ops = storage->counters().operations;
  auto past = chip->read_column({1, 0}, column + 1, window);
  ASSERT_FALSE(past);
  EXPECT_EQ(past.error().code, Errc::invalid_argument);
  EXPECT_EQ(storage->counters().operations, ops + 1);
}

TEST_F(Ecc, FlipsSpreadOverSectorsAreCorrectedPerSector) {
  ASSERT_TRUE(chip->program({2, 0}, pattern(g().page_size, 13), {}));
  const std::uint32_t t = chip->config().ecc.strength_bits;
  for (std::uint32_t s = 0; s < 4; ++s)
    ASSERT_TRUE(chip->inject_bit_flips({2, 0}, t, s));
  auto main = main_buf();
  auto info = chip->read({2, 0}, main, {});
  ASSERT_TRUE(info);
  EXPECT_EQ(info->corrected_bits, 4 * t);
}

TEST_F(Ecc, EightBitProfileCorrectsMore) {
  ChipConfig config;
  config.ecc.strength_bits = 8;
  auto storage8 = Storage::create_in_memory(g()).value();
  SimulatedChip chip8(*storage8, config);
  ASSERT_TRUE(chip8.program({0, 0}, pattern(g().page_size, 14), {}));
  ASSERT_TRUE(chip8.inject_bit_flips({0, 0}, 8, 0));
  auto main = main_buf();
  EXPECT_TRUE(chip8.read({0, 0}, main, {}));
  ASSERT_TRUE(chip8.inject_bit_flips({0, 0}, 1, 0));
  EXPECT_EQ(chip8.read({0, 0}, main, {}).error().code, Errc::uncorrectable);
}

TEST_F(Ecc, EraseClearsDamage) {
  ASSERT_TRUE(chip->program({3, 0}, pattern(g().page_size, 15), {}));
  ASSERT_TRUE(chip->inject_bit_flips({3, 0}, 20));
  EXPECT_EQ(storage->deviation_slots_in_use(), 1U);
  ASSERT_TRUE(chip->erase(3));
  EXPECT_EQ(storage->deviation_slots_in_use(), 0U);
  auto main = main_buf();
  EXPECT_FALSE(chip->read({3, 0}, main, {})->corrected());
}

TEST_F(Ecc, SpareOnlyReadSeesSpareDamageOnly) {
  ASSERT_TRUE(chip->program({4, 0}, pattern(g().page_size, 16), spare_pattern(17)));
  // Damage the main area of sector 0 beyond repair; a tags-only read (as a
  // mount scan does) is not affected, a full read is.
  ASSERT_TRUE(chip->inject_bit_flips({4, 0}, 30, 0));
  auto spare = spare_buf();
  auto main = main_buf();
  // 30 flips over 512+14 bytes: nearly all land in the main area, so the
  // spare-only read sees at most a few and corrects them.
  ASSERT_TRUE(chip->read({4, 0}, {}, spare));
  EXPECT_EQ(spare, spare_pattern(17));
  EXPECT_FALSE(chip->read({4, 0}, main, spare).has_value());
}

// Runs reads with the wear/disturb models on and returns how many reads came
// back corrected or uncorrectable.
std::pair<std::uint64_t, std::uint64_t> disturb_run(std::uint64_t seed) {
  ChipConfig config;
  config.seed = seed;
  config.wear.read_disturb = true;
  config.wear.read_disturb_threshold = 100;
  config.wear.read_disturb_rate = 0.05;
  auto storage = Storage::create_in_memory(small_geometry()).value();
  SimulatedChip chip(*storage, config);
  for (std::uint32_t p = 0; p < 8; ++p) {
    EXPECT_TRUE(chip.program({1, p}, pattern(2048, p), {}));
  }
  std::vector<std::uint8_t> main(2048);
  for (int i = 0; i < 3000; ++i)
    (void)chip.read({1, static_cast<std::uint32_t>(i % 8)}, main, {});
  return {storage->counters().corrected_reads, storage->counters().uncorrectable_reads};
}

TEST(EccDisturb, ReadDisturbFlipsBitsReproduciblyFromTheSeed) {
  const auto first = disturb_run(7);
  EXPECT_GT(first.first + first.second, 0U) << "heavy reads must disturb the block";
  EXPECT_EQ(disturb_run(7), first) << "same seed, same damage";
  EXPECT_NE(disturb_run(8), first) << "another seed, other damage";
}

TEST(EccWear, WornBlocksPickUpBitErrors) {
  ChipConfig config;
  config.wear.endurance_cycles = 100;
  config.wear.fail_probability_at_endurance = 0;
  config.wear.wear_bit_errors = true;
  config.wear.wear_bit_error_rate = 0.2;
  auto storage = Storage::create_in_memory(small_geometry()).value();
  SimulatedChip chip(*storage, config);
  for (int i = 0; i < 100; ++i)
    ASSERT_TRUE(chip.erase(1));
  ASSERT_TRUE(chip.program({1, 0}, pattern(2048, 1), {}));
  ASSERT_TRUE(chip.program({2, 0}, pattern(2048, 1), {}));
  std::vector<std::uint8_t> main(2048);
  for (int i = 0; i < 200; ++i) {
    (void)chip.read({1, 0}, main, {});
    (void)chip.read({2, 0}, main, {});
  }
  EXPECT_NE(storage->deviation({1, 0}), nullptr) << "the worn block gathered errors";
  EXPECT_EQ(storage->deviation({2, 0}), nullptr) << "the fresh block did not";
}

}  // namespace
}  // namespace vmodem::nand::testing
