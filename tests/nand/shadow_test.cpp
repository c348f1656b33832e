// A seeded random walk of reads, programs, partial programs and erases,
// checked against a plain in-memory model of what NAND must do. The seed is
// printed; set VMODEM_TEST_SEED to replay a failure.
#include <cstdlib>
#include <iostream>
#include <map>

#include "nand_fixture.hpp"
#include "test_seed.hpp"

namespace vmodem::nand::testing {
namespace {

struct ShadowChip {
  explicit ShadowChip(const Geometry& geometry) : g(geometry) {}
  Geometry g;
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::vector<std::uint8_t>> pages;
  std::map<std::uint32_t, std::uint32_t> next_page;
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::uint32_t> programs;

  std::vector<std::uint8_t> page(PageAddr a) {
    auto it = pages.find({a.block, a.page});
    return it == pages.end() ? std::vector<std::uint8_t>(g.raw_page_size(), 0xFF) : it->second;
  }
  // The error NAND must report for programming `bytes` at `column`, if any.
  std::optional<Errc> program_error(PageAddr a, std::uint32_t column,
                                    std::span<const std::uint8_t> bytes) {
    if (a.page + 1 < next_page[a.block]) return Errc::order_violation;
    if (programs[{a.block, a.page}] >= g.nop) return Errc::nop_exceeded;
    const auto current = page(a);
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      if (bytes[i] & ~current[column + i]) return Errc::cannot_set_bits;
    }
    return std::nullopt;
  }
  void program(PageAddr a, std::uint32_t column, std::span<const std::uint8_t> bytes) {
    auto current = page(a);
    for (std::size_t i = 0; i < bytes.size(); ++i)
      current[column + i] &= bytes[i];
    pages[{a.block, a.page}] = current;
    next_page[a.block] = std::max(next_page[a.block], a.page + 1);
    ++programs[{a.block, a.page}];
  }
  void erase(std::uint32_t block) {
    for (std::uint32_t p = 0; p < g.pages_per_block; ++p) {
      pages.erase({block, p});
      programs.erase({block, p});
    }
    next_page[block] = 0;
  }
};

TEST(Shadow, RandomOperationsMatchTheModel) {
  const std::uint64_t seed = vmodem::testing::test_seed(20261121);
  Geometry geometry = small_geometry(8);
  geometry.pages_per_block = 16;
  auto storage = Storage::create_in_memory(geometry).value();
  SimulatedChip chip(*storage, {});
  ShadowChip shadow(geometry);
  Rng rng(seed);
  std::vector<std::uint8_t> raw(geometry.raw_page_size());
  std::uint64_t checked_errors = 0;
  for (int step = 0; step < 20000; ++step) {
    const auto block = static_cast<std::uint32_t>(rng.below(geometry.block_count));
    // Mostly near the block's frontier, sometimes anywhere (order violations).
    const std::uint32_t frontier = shadow.next_page[block];
    const auto page = static_cast<std::uint32_t>(
        rng.chance(0.8)
            ? std::min<std::uint64_t>(geometry.pages_per_block - 1,
                                      frontier + rng.below(2) - (frontier ? rng.below(2) : 0))
            : rng.below(geometry.pages_per_block));
    const PageAddr addr{block, page};
    const auto action = rng.below(10);
    SCOPED_TRACE("step " + std::to_string(step) + " seed " + std::to_string(seed));
    if (action < 1) {
      ASSERT_TRUE(chip.erase(block));
      shadow.erase(block);
    } else if (action < 6) {
      // A program: mostly fresh random data, sometimes the current content
      // with a few more zero bits (a legal re-program), sometimes ones over zeros.
      const std::uint32_t column =
          action < 4 ? 0 : static_cast<std::uint32_t>(rng.below(geometry.raw_page_size()));
      const std::uint32_t length =
          action < 4 ? geometry.raw_page_size()
                     : 1 + static_cast<std::uint32_t>(rng.below(geometry.raw_page_size() - column));
      std::vector<std::uint8_t> bytes(length);
      const auto current = shadow.page(addr);
      for (std::uint32_t i = 0; i < length; ++i) {
        bytes[i] = rng.chance(0.7) ? static_cast<std::uint8_t>(current[column + i] & rng.next())
                                   : static_cast<std::uint8_t>(rng.next());
      }
      const auto expected = shadow.program_error(addr, column, bytes);
      const auto got = chip.program_partial(addr, column, bytes);
      if (expected) {
        ASSERT_FALSE(got);
        ASSERT_EQ(got.error().code, *expected);
        ++checked_errors;
      } else {
        ASSERT_TRUE(got) << got.error().message();
        shadow.program(addr, column, bytes);
      }
    } else {
      ASSERT_TRUE(chip.read(addr, {raw.data(), geometry.page_size},
                            {raw.data() + geometry.page_size, geometry.spare_size}));
      ASSERT_EQ(raw, shadow.page(addr));
    }
  }
  EXPECT_GT(checked_errors, 100U) << "the walk should provoke violations too";
  const auto& c = storage->counters();
  EXPECT_EQ(c.order_violations + c.nop_violations + c.set_bit_violations, checked_errors);
}

}  // namespace
}  // namespace vmodem::nand::testing
