// Flash physics the chip must enforce: erased state, bit-clearing programs,
// ascending page order, NOP, bad blocks, wear failures, timing, power.
#include <chrono>

#include <vmodem/nand/stats.hpp>

#include "nand_fixture.hpp"

namespace vmodem::nand::testing {
namespace {

using Physics = ChipFixture;

TEST_F(Physics, ErasedPagesReadAllOnes) {
  auto main = main_buf();
  auto spare = spare_buf();
  auto info = chip->read({3, 7}, main, spare);
  ASSERT_TRUE(info);
  EXPECT_FALSE(info->corrected());
  EXPECT_EQ(std::count(main.begin(), main.end(), 0xFF), static_cast<long>(main.size()));
  EXPECT_EQ(std::count(spare.begin(), spare.end(), 0xFF), static_cast<long>(spare.size()));
}

TEST_F(Physics, ProgramThenReadReturnsTheData) {
  const auto data = pattern(g().page_size, 1);
  const auto tags = spare_pattern(2);
  ASSERT_TRUE(chip->program({1, 0}, data, tags));
  auto main = main_buf();
  auto spare = spare_buf();
  ASSERT_TRUE(chip->read({1, 0}, main, spare));
  EXPECT_EQ(main, data);
  EXPECT_EQ(spare, tags);
}

TEST_F(Physics, ProgramCannotSetBitsAndChangesNothing) {
  std::vector<std::uint8_t> zeros(g().page_size, 0x00);
  ASSERT_TRUE(chip->program({1, 0}, zeros, {}));
  std::vector<std::uint8_t> ones(g().page_size, 0x0F);
  auto result = chip->program({1, 0}, ones, {});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, Errc::cannot_set_bits);
  EXPECT_EQ(storage->counters().set_bit_violations, 1U);
  auto main = main_buf();
  ASSERT_TRUE(chip->read({1, 0}, main, {}));
  EXPECT_EQ(main, zeros);
  EXPECT_EQ(storage->page_meta({1, 0}).program_count, 1);
}

TEST_F(Physics, PartialProgramsUpToNop) {
  std::vector<std::uint8_t> data(g().page_size, 0xFF);
  for (std::uint32_t i = 0; i < g().nop; ++i) {
    data[i] = 0x00;  // each program clears one more byte
    ASSERT_TRUE(chip->program({2, 0}, data, {})) << "program " << i;
  }
  data[g().nop] = 0x00;
  auto result = chip->program({2, 0}, data, {});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, Errc::nop_exceeded);
  EXPECT_EQ(storage->counters().nop_violations, 1U);
  ASSERT_TRUE(chip->erase(2));
  EXPECT_TRUE(chip->program({2, 0}, data, {}));
}

TEST_F(Physics, PagesProgrammedInAscendingOrder) {
  const auto data = pattern(g().page_size, 3);
  ASSERT_TRUE(chip->program({4, 0}, data, {}));
  ASSERT_TRUE(chip->program({4, 5}, data, {}));  // skipping pages is allowed
  auto result = chip->program({4, 3}, data, {});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, Errc::order_violation);
  EXPECT_EQ(result.error().block, 4);
  EXPECT_EQ(result.error().page, 3);
  EXPECT_EQ(storage->counters().order_violations, 1U);
  auto main = main_buf();
  ASSERT_TRUE(chip->read({4, 3}, main, {}));
  EXPECT_EQ(std::count(main.begin(), main.end(), 0xFF), static_cast<long>(main.size()));
}

TEST_F(Physics, PartialProgramOfOneSpareByte) {
  const std::uint8_t flag = 0x00;
  ASSERT_TRUE(chip->program_partial({5, 0}, g().page_size + 10, {&flag, 1}));
  auto spare = spare_buf();
  ASSERT_TRUE(chip->read({5, 0}, {}, spare));
  EXPECT_EQ(spare[10], 0x00);
  EXPECT_EQ(spare[9], 0xFF);
  EXPECT_EQ(storage->counters().partial_programs, 1U);
  auto beyond = chip->program_partial({5, 0}, g().raw_page_size(), {&flag, 1});
  EXPECT_EQ(beyond.error().code, Errc::out_of_range);
}

TEST_F(Physics, EraseRestoresOnesAndCountsWear) {
  ASSERT_TRUE(chip->program({6, 0}, pattern(g().page_size, 4), {}));
  ASSERT_TRUE(chip->erase(6));
  auto main = main_buf();
  ASSERT_TRUE(chip->read({6, 0}, main, {}));
  EXPECT_EQ(std::count(main.begin(), main.end(), 0xFF), static_cast<long>(main.size()));
  EXPECT_EQ(storage->block_meta(6).erase_count, 1U);
  EXPECT_EQ(storage->page_meta({6, 0}).program_count, 0);
}

TEST_F(Physics, RangeAndBufferErrors) {
  auto main = main_buf();
  EXPECT_EQ(chip->read({g().block_count, 0}, main, {}).error().code, Errc::out_of_range);
  EXPECT_EQ(chip->read({0, g().pages_per_block}, main, {}).error().code, Errc::out_of_range);
  std::vector<std::uint8_t> small(100), large(g().page_size + 1);
  EXPECT_EQ(chip->read({0, 0}, large, {}).error().code, Errc::invalid_argument);
  EXPECT_EQ(chip->program({0, 0}, small, {}).error().code, Errc::invalid_argument);
  EXPECT_EQ(chip->erase(g().block_count).error().code, Errc::out_of_range);
}

TEST_F(Physics, FactoryBadBlocksAreMarkedSeededAndLimited) {
  FactoryBadBlocks spec;
  spec.count = 3;
  spec.seed = 42;
  auto marked = manufacture_bad_blocks(*chip, spec);
  ASSERT_TRUE(marked);
  ASSERT_EQ(marked->size(), 3U);
  for (std::uint32_t b = 0; b < g().block_count; ++b) {
    const bool expected = std::find(marked->begin(), marked->end(), b) != marked->end();
    EXPECT_EQ(chip->is_bad(b).value(), expected) << "block " << b;
  }
  const std::uint32_t bad = marked->front();
  EXPECT_NE(bad, 0U) << "block 0 must stay good";
  EXPECT_EQ(chip->erase(bad).error().code, Errc::erase_fail);
  EXPECT_EQ(chip->program({bad, 1}, pattern(g().page_size, 5), {}).error().code,
            Errc::program_fail);
  EXPECT_TRUE(chip->is_bad(bad).value()) << "the marker survives the failed erase";

  // The same seed picks the same blocks on another chip.
  auto other_storage = Storage::create_in_memory(g()).value();
  SimulatedChip other(*other_storage, {});
  EXPECT_EQ(manufacture_bad_blocks(other, spec).value(), *marked);

  spec.count = 21;
  EXPECT_EQ(manufacture_bad_blocks(other, spec).error().code, Errc::invalid_argument);
}

TEST(PhysicsWear, WornBlocksFailAndStayFailed) {
  ChipConfig config;
  config.wear.endurance_cycles = 20;
  config.wear.fail_probability_at_endurance = 1.0;
  auto storage = Storage::create_in_memory(small_geometry()).value();
  SimulatedChip chip(*storage, config);
  std::uint32_t cycles = 0;
  Status result;
  while ((result = chip.erase(7)) && cycles < 1000)
    ++cycles;
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, Errc::erase_fail);
  EXPECT_GT(cycles, 5U) << "young blocks should rarely fail";
  EXPECT_LE(cycles, 21U) << "at endurance the failure probability is 1";
  EXPECT_EQ(chip.erase(7).error().code, Errc::erase_fail);
  EXPECT_EQ(chip.program({7, 0}, std::vector<std::uint8_t>(2048, 0), {}).error().code,
            Errc::program_fail);
  EXPECT_TRUE(storage->block_meta(7).flags & kFailed);
  EXPECT_EQ(collect_stats(*storage, nullptr).grown_bad, 1U);
  EXPECT_TRUE(chip.erase(8)) << "other blocks are unaffected";
}

TEST_F(Physics, MarkBadWritesTheMarkerOnAnyBlock) {
  ASSERT_TRUE(chip->program({9, 0}, pattern(g().page_size, 6), spare_pattern(7)));
  EXPECT_FALSE(chip->is_bad(9).value());
  ASSERT_TRUE(chip->mark_bad(9));
  EXPECT_TRUE(chip->is_bad(9).value());
  EXPECT_EQ(collect_stats(*storage, nullptr).grown_bad, 1U);
}

TEST_F(Physics, VirtualClockAddsDatasheetTimes) {
  const Timing& t = chip->config().timing;
  const auto before = chip->virtual_time();
  ASSERT_TRUE(chip->erase(1));
  ASSERT_TRUE(chip->program({1, 0}, pattern(g().page_size, 8), {}));
  auto main = main_buf();
  ASSERT_TRUE(chip->read({1, 0}, main, {}));
  const auto expected = std::chrono::microseconds(t.erase_us + t.program_us + t.read_us) +
                        std::chrono::nanoseconds(2ULL * g().page_size * t.transfer_ns_per_byte);
  EXPECT_EQ(chip->virtual_time() - before, expected);
}

TEST_F(Physics, RealTimePacingLooksLikeTheChip) {
  chip->set_real_time_pacing(true);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(chip->erase(static_cast<std::uint32_t>(i)));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  // 10 erases at tBERS = 2 ms: about 20 ms of wall time, not microseconds.
  EXPECT_GE(elapsed, std::chrono::milliseconds(18));
  chip->set_real_time_pacing(false);
  const auto fast_start = std::chrono::steady_clock::now();
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(chip->erase(static_cast<std::uint32_t>(i)));
  EXPECT_LT(std::chrono::steady_clock::now() - fast_start, std::chrono::milliseconds(18));
}

TEST_F(Physics, AfterPowerLossEveryAccessFailsUntilPowerUp) {
  chip->cut_power();
  auto main = main_buf();
  EXPECT_EQ(chip->read({0, 0}, main, {}).error().code, Errc::power_loss);
  EXPECT_EQ(chip->program({0, 0}, main, {}).error().code, Errc::power_loss);
  EXPECT_EQ(chip->erase(0).error().code, Errc::power_loss);
  EXPECT_EQ(chip->is_bad(0).error().code, Errc::power_loss);
  EXPECT_EQ(chip->mark_bad(0).error().code, Errc::power_loss);
  EXPECT_EQ(storage->counters().power_cuts, 1U);
  chip->power_up();
  EXPECT_TRUE(chip->read({0, 0}, main, {}));
}

}  // namespace
}  // namespace vmodem::nand::testing
