// Torn operations: what a power cut leaves in the cells, per tear mode.
#include <set>

#include <vmodem/nand/fault.hpp>

#include "nand_fixture.hpp"

namespace vmodem::nand::testing {
namespace {

using Tear = ChipFixture;

std::vector<std::uint8_t> raw_cells(const Storage& storage, PageAddr addr) {
  std::vector<std::uint8_t> cells(storage.geometry().raw_page_size());
  storage.read_cells(addr, 0, cells);
  return cells;
}

TEST_F(Tear, PartialProgramLeavesASubsetOfTheZeroBits) {
  const auto data = pattern(g().page_size, 21);
  auto result = chip->program_torn({1, 0}, data, {}, TearMode::partial);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, Errc::power_loss);
  EXPECT_FALSE(chip->powered());
  chip->power_up();
  const auto cells = raw_cells(*storage, {1, 0});
  std::uint64_t programmed = 0, missing = 0;
  for (std::size_t i = 0; i < data.size(); ++i) {
    EXPECT_EQ(static_cast<std::uint8_t>(~cells[i]) & data[i], 0)
        << "a bit the program never asked for is 0 at byte " << i;
    programmed += std::popcount(static_cast<unsigned>(static_cast<std::uint8_t>(~cells[i])));
    missing += std::popcount(static_cast<unsigned>(static_cast<std::uint8_t>(cells[i] & ~data[i])));
  }
  EXPECT_GT(programmed, 0U);
  EXPECT_GT(missing, 0U);
  auto main = main_buf();
  EXPECT_EQ(chip->read({1, 0}, main, {}).error().code, Errc::uncorrectable)
      << "a page with hundreds of missing bits cannot be corrected";
  EXPECT_EQ(storage->page_meta({1, 0}).program_count, 1) << "the program was started";
  EXPECT_EQ(storage->counters().torn_operations, 1U);
}

TEST_F(Tear, UnstableProgramReadsDifferentlyFromReadToRead) {
  const auto data = pattern(g().page_size, 22);
  ASSERT_FALSE(chip->program_torn({1, 0}, data, {}, TearMode::unstable));
  chip->power_up();
  EXPECT_EQ(raw_cells(*storage, {1, 0}), [&] {
    auto expected = data;
    expected.resize(g().raw_page_size(), 0xFF);
    return expected;
  }()) << "the cells hold the data; only sensing is marginal";
  auto main = main_buf();
  int good = 0, bad = 0;
  std::set<std::vector<std::uint8_t>> seen;
  for (int i = 0; i < 40; ++i) {
    if (chip->read({1, 0}, main, {})) {
      ++good;
      EXPECT_EQ(main, data) << "a read that passes ECC returns the data";
    } else {
      ++bad;
      seen.insert(main);
    }
  }
  EXPECT_GT(bad, 0);
  EXPECT_GT(seen.size(), 1U) << "failing reads differ from one another";
}

TEST_F(Tear, UnstableReadsReplayWithTheSameSeed) {
  auto run = [&](std::uint64_t seed) {
    auto s = Storage::create_in_memory(g()).value();
    ChipConfig config;
    config.seed = seed;
    SimulatedChip c(*s, config);
    EXPECT_FALSE(c.program_torn({1, 0}, pattern(g().page_size, 23), {}, TearMode::unstable));
    c.power_up();
    std::string outcomes;
    std::vector<std::uint8_t> main(g().page_size);
    for (int i = 0; i < 30; ++i)
      outcomes += c.read({1, 0}, main, {}) ? 'o' : 'x';
    return outcomes;
  };
  EXPECT_EQ(run(5), run(5));
}

TEST_F(Tear, PartialEraseLeavesSomeZeroBits) {
  const auto data = pattern(g().page_size, 24);
  for (std::uint32_t p = 0; p < 4; ++p)
    ASSERT_TRUE(chip->program({2, p}, data, {}));
  ASSERT_FALSE(chip->erase_torn(2, TearMode::partial));
  chip->power_up();
  EXPECT_EQ(storage->block_meta(2).erase_count, 1U);
  EXPECT_EQ(storage->page_meta({2, 0}).program_count, 0);
  std::uint64_t zeros_left = 0;
  for (std::uint32_t p = 0; p < 4; ++p) {
    const auto cells = raw_cells(*storage, {2, p});
    for (std::size_t i = 0; i < data.size(); ++i) {
      EXPECT_EQ(static_cast<std::uint8_t>(~cells[i] & data[i]), 0)
          << "a bit that was 1 before the erase became 0";
      zeros_left += std::popcount(static_cast<unsigned>(static_cast<std::uint8_t>(~cells[i])));
    }
  }
  EXPECT_GT(zeros_left, 0U);
  auto main = main_buf();
  EXPECT_EQ(chip->read({2, 0}, main, {}).error().code, Errc::uncorrectable);
  const auto untouched = raw_cells(*storage, {2, 10});
  EXPECT_EQ(std::count(untouched.begin(), untouched.end(), 0xFF),
            static_cast<long>(untouched.size()))
      << "pages that were erased stay erased";
}

TEST_F(Tear, UnstableEraseLooksErasedButIsMarginal) {
  ASSERT_TRUE(chip->program({2, 0}, pattern(g().page_size, 25), {}));
  ASSERT_FALSE(chip->erase_torn(2, TearMode::unstable));
  chip->power_up();
  const auto cells = raw_cells(*storage, {2, 0});
  EXPECT_EQ(std::count(cells.begin(), cells.end(), 0xFF), static_cast<long>(cells.size()));
  auto main = main_buf();
  int failures = 0;
  for (int i = 0; i < 20; ++i)
    failures += chip->read({2, 0}, main, {}) ? 0 : 1;
  EXPECT_GT(failures, 0);
}

TEST(TearDisturb, InterruptedProgramDisturbsEarlierPagesWhenTheProfileSaysSo) {
  auto run = [](bool disturb) {
    ChipConfig config;
    config.tear.program_disturbs_earlier_pages = disturb;
    auto storage = Storage::create_in_memory(small_geometry()).value();
    SimulatedChip chip(*storage, config);
    std::uint32_t damaged = 0;
    for (std::uint32_t b = 0; b < 16; ++b) {
      for (std::uint32_t p = 0; p < 3; ++p)
        EXPECT_TRUE(chip.program({b, p}, pattern(2048, p), {}));
      EXPECT_FALSE(chip.program_torn({b, 3}, pattern(2048, 9), {}, TearMode::unstable));
      chip.power_up();
      for (std::uint32_t p = 0; p < 3; ++p)
        damaged += storage->deviation({b, p}) != nullptr;
    }
    return damaged;
  };
  EXPECT_EQ(run(false), 0U);
  EXPECT_GT(run(true), 0U);
}

// Clean cut modes through the fault injector: before leaves the page erased,
// after leaves it fully programmed; both report power loss.
TEST_F(Tear, CleanCutsBeforeAndAfter) {
  FaultInjector injector(*chip, nullptr, 1);
  const auto data = pattern(g().page_size, 26);
  ASSERT_TRUE(injector.arm_power_cut(1, CutMode::before));
  EXPECT_EQ(injector.program({3, 0}, data, {}).error().code, Errc::power_loss);
  chip->power_up();
  auto main = main_buf();
  ASSERT_TRUE(chip->read({3, 0}, main, {}));
  EXPECT_EQ(std::count(main.begin(), main.end(), 0xFF), static_cast<long>(main.size()));

  ASSERT_TRUE(injector.arm_power_cut(1, CutMode::after));
  EXPECT_EQ(injector.program({3, 0}, data, {}).error().code, Errc::power_loss);
  chip->power_up();
  ASSERT_TRUE(chip->read({3, 0}, main, {}));
  EXPECT_EQ(main, data);
  EXPECT_EQ(injector.history().size(), 2U);
  EXPECT_EQ(injector.history()[1].cut, CutMode::after);
}

}  // namespace
}  // namespace vmodem::nand::testing
