// Crash-state exploration: a checkpoint rolls back exactly what a branch
// changed, and a branch taken at operation k of a run leaves the flash
// exactly as a replay of the run cut at k by a rule does, while the run
// itself goes on as if no branch had been taken.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include <vmodem/nand/fault.hpp>

#include "nand_fixture.hpp"
#include "tier.hpp"

namespace vmodem::nand::testing {
namespace {

using Checkpoints = ChipFixture;

// What a power-on after a cut might do: read around, program a record,
// erase and reuse a block, damage a page.
void boot_like(Device& device) {
  std::vector<std::uint8_t> main(2048), spare(64);
  for (std::uint32_t b = 0; b < 8; ++b)
    (void)device.read({b, 0}, main, spare);
  (void)device.program({9, 0}, pattern(2048, 9), {});
  (void)device.erase(10);
  (void)device.program({10, 0}, pattern(2048, 10), {});
}

// The run under test: erases and programs over a few blocks, with reads, a
// partial program and bad-block checks in between.
void run(Device& device) {
  std::vector<std::uint8_t> main(2048);
  for (std::uint32_t b = 2; b < 5; ++b) {
    if (!device.erase(b)) return;
    for (std::uint32_t p = 0; p < 4; ++p) {
      if (!device.program({b, p}, pattern(2048, b * 16 + p), {})) return;
      if (!device.read({b, p}, main, {})) return;
    }
    if (!device.is_bad(b)) return;
  }
  const std::vector<std::uint8_t> marker{0x00, 0x11};
  (void)device.program_partial({4, 5}, 2048 + 8, marker);
}

std::uint64_t count_ops(std::uint64_t seed) {
  auto storage = Storage::create_in_memory(small_geometry(12)).value();
  SimulatedChip chip(*storage, {});
  FaultInjector injector(chip, nullptr, seed);
  run(injector);
  return injector.operation_count();
}

TEST_F(Checkpoints, RollbackRestoresExactlyWithAndWithoutSnapshot) {
  ASSERT_TRUE(chip->program({3, 0}, pattern(2048, 3), {}));
  ASSERT_TRUE(chip->inject_bit_flips({3, 0}, 2));
  for (const bool with_snapshot : {false, true}) {
    if (with_snapshot) storage->snapshot_begin();
    const auto before = fingerprint(*storage);
    storage->checkpoint_begin();
    ASSERT_TRUE(storage->checkpoint_active());
    boot_like(*chip);
    ASSERT_TRUE(chip->erase(3));  // a damaged page erased: its mask goes
    ASSERT_TRUE(chip->inject_bit_flips({2, 1}, 1));
    ASSERT_FALSE(chip->program_torn({3, 0}, pattern(2048, 4), {}, TearMode::unstable));
    chip->power_up();
    EXPECT_NE(fingerprint(*storage), before);
    storage->checkpoint_rollback();
    EXPECT_FALSE(storage->checkpoint_active());
    EXPECT_EQ(fingerprint(*storage), before) << (with_snapshot ? "with" : "without") << " snapshot";
  }
  // The snapshot saw the branch and its roll-back as plain changes.
  ASSERT_TRUE(chip->erase(6));
  storage->snapshot_rollback();
  EXPECT_EQ(storage->block_meta(6).erase_count, 0U);
  EXPECT_EQ(storage->block_meta(3).erase_count, 0U);
}

// A torn erase inside a branch of a block programmed before it: rolling back
// gives the block its programmed pages back (the page used to be saved as
// "erased" once the torn erase had reset its metadata, and came back blank).
TEST_F(Checkpoints, RollbackUndoesATornEraseOfProgrammedPages) {
  for (std::uint32_t p = 0; p < 3; ++p)
    ASSERT_TRUE(chip->program({5, p}, pattern(2048, 50 + p), {}));
  const auto before = fingerprint(*storage);
  storage->checkpoint_begin();
  ASSERT_FALSE(chip->erase_torn(5, TearMode::partial));
  chip->power_up();
  EXPECT_NE(fingerprint(*storage), before);
  storage->checkpoint_rollback();
  EXPECT_EQ(fingerprint(*storage), before);
}

// A second cut during the recovery boot branches off the branch: the inner
// checkpoint goes back to its own begin (the first cut's flash), the outer
// one then to the run's; a third is refused; with and without a snapshot.
TEST_F(Checkpoints, ACheckpointInsideAnotherGoesBackToItsOwnBeginThenTheOuterToTheFirst) {
  for (const bool with_snapshot : {false, true}) {
    if (with_snapshot) storage->snapshot_begin();
    ASSERT_TRUE(chip->erase(3));
    ASSERT_TRUE(chip->program({3, 0}, pattern(2048, 30), {}));
    const auto run = fingerprint(*storage);
    const std::uint64_t run_id = storage->content_id();
    ASSERT_TRUE(storage->checkpoint_begin());
    ASSERT_FALSE(chip->program_torn({3, 1}, pattern(2048, 31), {}, TearMode::partial));  // the cut
    chip->power_up();
    boot_like(*chip);
    const auto cut = fingerprint(*storage);
    const std::uint64_t cut_id = storage->content_id();
    for (int nested = 0; nested < 3; ++nested) {
      ASSERT_TRUE(storage->checkpoint_begin());
      EXPECT_EQ(storage->checkpoint_depth(), 2U);
      EXPECT_FALSE(storage->checkpoint_begin()) << "a third level";
      // The recovery boot, cut: it reuses the blocks the first boot wrote.
      ASSERT_TRUE(chip->erase(10));
      ASSERT_FALSE(chip->program_torn({10, 0}, pattern(2048, 40 + nested), {}, TearMode::unstable));
      chip->power_up();
      ASSERT_TRUE(chip->erase(3));
      ASSERT_TRUE(chip->inject_bit_flips({9, 0}, 1));
      EXPECT_NE(fingerprint(*storage), cut);
      storage->checkpoint_rollback();
      EXPECT_EQ(storage->checkpoint_depth(), 1U);
      EXPECT_EQ(fingerprint(*storage), cut) << "nested " << nested;
      EXPECT_EQ(storage->content_id(), cut_id);
    }
    storage->checkpoint_rollback();
    EXPECT_FALSE(storage->checkpoint_active());
    EXPECT_EQ(fingerprint(*storage), run);
    EXPECT_EQ(storage->content_id(), run_id);
    if (with_snapshot) {
      storage->snapshot_rollback();
      storage->snapshot_end();
    }
  }
}

TEST(Branches, CutPendingOutsideABranchIsRefused) {
  auto storage = Storage::create_in_memory(small_geometry(12)).value();
  SimulatedChip chip(*storage, {});
  FaultInjector injector(chip, nullptr, 1);
  auto cut = injector.cut_pending(CutMode::torn_random);
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().code, Errc::invalid_argument);
  EXPECT_TRUE(chip.powered());
}

// For every operation k and every cut mode: the flash a branch sees right
// after cut_pending() equals the flash of a fresh replay cut at k by an armed
// rule, with the injector seeded the same way; and the run with all its
// branches ends exactly where the uncut run does.
// `stride`: the replays compared (every operation: 1; the branches are
// taken at every operation either way).
void branches_equal_replays(std::uint64_t stride) {
  constexpr std::uint64_t kSeed = 77;
  const std::uint64_t ops = count_ops(kSeed);
  ASSERT_GT(ops, 30U);
  // The operations whose replay is compared: every `stride`th and the last.
  std::vector<std::uint64_t> compared;
  for (std::uint64_t k = 1; k <= ops; k = k < ops && k + stride > ops ? ops : k + stride) {
    compared.push_back(k);
  }
  const auto is_compared = [&](std::uint64_t k) {
    return std::binary_search(compared.begin(), compared.end(), k);
  };
  for (const CutMode mode : {CutMode::before, CutMode::after, CutMode::torn_partial,
                             CutMode::torn_unstable, CutMode::torn_random}) {
    std::vector<std::string> branched(ops + 1);
    auto storage = Storage::create_in_memory(small_geometry(12)).value();
    SimulatedChip chip(*storage, {});
    FaultInjector injector(chip, nullptr, kSeed);
    std::uint64_t branches = 0;
    injector.set_branch([&](std::uint64_t k) {
      ++branches;
      storage->checkpoint_begin();
      injector.reseed(Rng::mix(kSeed, k));
      const auto cut = injector.cut_pending(mode);
      EXPECT_FALSE(cut) << "a cut operation never succeeds";
      EXPECT_FALSE(chip.powered());
      if (is_compared(k)) {  // hashing the flash is the slow part: only where compared
        branched[k] = fingerprint(*storage);
      }
      chip.power_up();
      boot_like(injector);  // inside the branch: counted, but no branch again
      storage->checkpoint_rollback();
      chip.power_up();
    });
    run(injector);
    EXPECT_EQ(branches, ops);
    EXPECT_EQ(injector.operation_count(), ops);

    auto plain = Storage::create_in_memory(small_geometry(12)).value();
    SimulatedChip plain_chip(*plain, {});
    FaultInjector plain_injector(plain_chip, nullptr, kSeed);
    run(plain_injector);
    EXPECT_EQ(fingerprint(*storage), fingerprint(*plain)) << "the run went on as if uncut";

    for (const std::uint64_t k : compared) {
      auto replay = Storage::create_in_memory(small_geometry(12)).value();
      SimulatedChip replay_chip(*replay, {});
      FaultInjector replay_injector(replay_chip, nullptr, kSeed);
      // Whatever the chip's generator went through before, the cut is the
      // same (the run's operations draw nothing from it; a cut after an
      // operation lets it draw as the uncut run would, then reseeds).
      replay_chip.set_generator(Rng(k * 1000 + 1));
      replay_injector.reseed(Rng::mix(kSeed, k));
      ASSERT_TRUE(replay_injector.arm_power_cut(k, mode));
      run(replay_injector);
      EXPECT_FALSE(replay_chip.powered()) << "cut " << k;
      EXPECT_EQ(fingerprint(*replay), branched[k])
          << "cut at operation " << k << ", mode " << to_string(mode);
    }
  }
}

// What Storage::content_id() names: the cells, damage and metadata, the read
// counters and the device's counters aside. A hash, to compare cheaply.
std::size_t content(const Storage& storage) {
  std::string flash = fingerprint(storage);  // then without what the name leaves out
  const Geometry& g = storage.geometry();
  flash.resize(flash.size() - sizeof(DeviceCounters));
  const std::size_t page_record = g.raw_page_size() + sizeof(PageMeta);
  for (std::uint32_t b = 0; b < g.block_count; ++b) {
    std::size_t at = 0;
    for (std::uint32_t before = 0; before < b; ++before) {
      at += sizeof(BlockMeta) + g.pages_per_block * page_record;
      for (std::uint32_t p = 0; p < g.pages_per_block; ++p)
        at += storage.deviation({before, p}) ? g.raw_page_size() : 0;
    }
    BlockMeta meta = storage.block_meta(b);
    meta.reads_since_erase = 0;
    meta.reads = 0;
    flash.replace(at, sizeof meta, reinterpret_cast<const char*>(&meta), sizeof meta);
  }
  return std::hash<std::string>{}(flash);
}

// What a campaign shares power-ups by: a cut after operation k leaves the
// flash, its name (content_id) and the chip's generator that a cut before
// operation k + 1 leaves, when no rule draws in between; a torn cut leaves
// flash of its own; two different programs never share a name.
TEST(Branches, ACutAfterAnOperationLeavesWhatACutBeforeTheNextOneLeaves) {
  constexpr std::uint64_t kSeed = 5;
  const std::uint64_t ops = count_ops(kSeed);
  struct Left {
    std::uint64_t name = 0;
    Rng generator{0};
    std::size_t flash = 0;
  };
  std::vector<Left> after(ops + 2), before(ops + 2), torn(ops + 2);
  auto storage = Storage::create_in_memory(small_geometry(12)).value();
  SimulatedChip chip(*storage, {});
  FaultInjector injector(chip, nullptr, kSeed);
  injector.set_branch([&](std::uint64_t k) {
    storage->checkpoint_begin();
    for (auto [mode, left] :
         {std::pair{CutMode::after, &after}, std::pair{CutMode::before, &before},
          std::pair{CutMode::torn_partial, &torn}}) {
      (void)injector.cut_pending(mode);
      (*left)[k] = {storage->content_id(), chip.generator(), content(*storage)};
      storage->checkpoint_rollback();
      chip.power_up();
      ASSERT_TRUE(injector.rewind_branch());
      storage->checkpoint_begin();
    }
    storage->checkpoint_rollback();
  });
  run(injector);
  std::uint64_t changing = 0;
  for (std::uint64_t k = 1; k < ops; ++k) {
    EXPECT_EQ(after[k].flash, before[k + 1].flash) << "operation " << k;
    EXPECT_EQ(after[k].name, before[k + 1].name) << "operation " << k;
    EXPECT_EQ(after[k].generator, before[k + 1].generator) << "operation " << k;
    if (after[k].flash == before[k].flash) continue;  // a read or a bad-block check
    ++changing;
    EXPECT_NE(after[k].name, before[k].name) << "operation " << k;
    EXPECT_NE(torn[k].name, after[k].name) << "operation " << k;
    EXPECT_NE(torn[k].name, before[k].name) << "operation " << k;
  }
  EXPECT_GT(changing, 10U);
  // Names are unique to their content across the run's changes.
  std::vector<std::pair<std::uint64_t, std::size_t>> named;
  for (std::uint64_t k = 1; k <= ops; ++k)
    named.emplace_back(after[k].name, after[k].flash);
  std::sort(named.begin(), named.end());
  for (std::size_t i = 1; i < named.size(); ++i) {
    if (named[i].first == named[i - 1].first) {
      EXPECT_EQ(named[i].second, named[i - 1].second);
    }
  }
}

TEST(Branches, EveryBranchEqualsAReplayCutThereAndTheRunGoesOn) {
  branches_equal_replays(5);  // quick tier: every fifth replay and the last
}
TEST(BranchesFull, EveryBranchEqualsAReplayCutThereAndTheRunGoesOn) {
  VMODEM_FULL_TIER_ONLY();
  branches_equal_replays(1);
}

}  // namespace
}  // namespace vmodem::nand::testing
