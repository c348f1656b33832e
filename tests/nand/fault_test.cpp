// Rule-driven fault injection over the chip.
#include <set>
#include <tuple>

#include <vmodem/nand/fault.hpp>

#include "nand_fixture.hpp"

namespace vmodem::nand::testing {
namespace {

struct Faults : ChipFixture {
  Faults() {
    table = PartitionTable::create({{"boot", 0, 4}, {"efs", 4, 8}, {"ufs", 12, 20}}, g()).value();
    injector = std::make_unique<FaultInjector>(*chip, &table, 99);
  }
  PartitionTable table;
  std::unique_ptr<FaultInjector> injector;
};

TEST_F(Faults, PowerCutAtTheNthOperation) {
  ASSERT_TRUE(injector->arm_power_cut(3, CutMode::before));
  auto main = main_buf();
  EXPECT_TRUE(injector->read({0, 0}, main, {}));
  EXPECT_TRUE(injector->erase(1));
  EXPECT_EQ(injector->program({1, 0}, main, {}).error().code, Errc::power_loss);
  EXPECT_EQ(injector->read({0, 0}, main, {}).error().code, Errc::power_loss) << "stays off";
  EXPECT_EQ(injector->operation_count(), 4U);
  ASSERT_EQ(injector->history().size(), 1U);
  EXPECT_EQ(injector->history()[0].operation, 3U);
  EXPECT_EQ(injector->history()[0].op, OpKind::program);
  EXPECT_EQ(injector->rule_count(), 0U) << "a one-shot rule is spent";
}

// A column read is a read like any other: counted, and struck by a cut
// armed on its operation.
TEST_F(Faults, AColumnReadIsAnOperationACutStrikes) {
  std::vector<std::uint8_t> window(64);
  ASSERT_TRUE(injector->arm_power_cut(2, CutMode::before));
  EXPECT_TRUE(injector->read_column({0, 0}, 1984, window));
  EXPECT_EQ(injector->read_column({0, 0}, 1984, window).error().code, Errc::power_loss);
  EXPECT_EQ(injector->operation_count(), 2U);
  ASSERT_EQ(injector->history().size(), 1U);
  EXPECT_EQ(injector->history()[0].op, OpKind::read);
}

// An armed count-down cut belongs to the power-on it was armed in: power
// that goes first (another cut, a hand cut) takes it along, so it never
// strikes a later, unrelated boot.
TEST_F(Faults, ACountDownCutDiesWithThePowerOnItWasArmedIn) {
  auto main = main_buf();
  ASSERT_TRUE(injector->arm_power_cut(2, CutMode::before));
  ASSERT_TRUE(injector->arm_power_cut(4, CutMode::before));
  EXPECT_TRUE(injector->read({0, 0}, main, {}));
  EXPECT_EQ(injector->read({0, 0}, main, {}).error().code, Errc::power_loss);
  EXPECT_EQ(injector->rule_count(), 0U) << "the cut at 4 went with the power";
  injector->power_up();
  ASSERT_TRUE(injector->arm_power_cut(3, CutMode::before));
  injector->cut_power();
  EXPECT_EQ(injector->rule_count(), 0U) << "a hand cut takes it too";
  injector->power_up();
  for (int i = 0; i < 10; ++i)
    EXPECT_TRUE(injector->read({0, 0}, main, {}));
}

TEST_F(Faults, ACutArmedWhileOffCountsFromThePowerUp) {
  auto main = main_buf();
  injector->cut_power();
  ASSERT_TRUE(injector->arm_power_cut(2, CutMode::before));
  injector->power_up();
  EXPECT_TRUE(injector->read({0, 0}, main, {}));
  EXPECT_EQ(injector->read({0, 0}, main, {}).error().code, Errc::power_loss);
}

TEST_F(Faults, APowerCutByProbabilityOutlivesThePower) {
  FaultRule rule;
  rule.trigger = Trigger::probability;
  rule.p = 0.5;
  ASSERT_TRUE(injector->add_rule(rule));
  injector->cut_power();
  injector->power_up();
  EXPECT_EQ(injector->rule_count(), 1U);
}

// One damage vocabulary: what each kind does to the chip, the same through
// the injector (ctl inject) as through apply() (image inject).
TEST_F(Faults, EachKindOfDamageDoesWhatItSays) {
  auto main = main_buf();
  ASSERT_TRUE(injector->program({5, 0}, pattern(g().page_size, 3), {}));
  ASSERT_TRUE(injector->program({5, 1}, pattern(g().page_size, 4), {}));
  ASSERT_TRUE(injector->damage({5, 0}, {Damage::Kind::bit_flips, 2, 0}));
  auto read = injector->read({5, 0}, main, {});
  ASSERT_TRUE(read);
  EXPECT_EQ(read->corrected_bits, 2U);
  ASSERT_TRUE(apply(*chip, {5, 1}, {Damage::Kind::uncorrectable, 0, 1}));
  EXPECT_EQ(injector->read({5, 1}, main, {}).error().code, Errc::uncorrectable);
  ASSERT_TRUE(injector->damage({6, 0}, {Damage::Kind::failed_block, 0, {}}));
  EXPECT_EQ(injector->erase(6).error().code, Errc::erase_fail);
  ASSERT_TRUE(injector->damage({7, 0}, {Damage::Kind::bad_block, 0, {}}));
  EXPECT_TRUE(injector->is_bad(7).value());
  EXPECT_EQ(injector->damage({9999, 0}, {}).error().code, Errc::out_of_range);
  EXPECT_EQ(describe({Damage::Kind::bit_flips, 5, {}}), "5 bit flips");
}

TEST_F(Faults, NextEraseInAPartition) {
  FaultRule rule;
  rule.ops = 1U << static_cast<int>(OpKind::erase);
  rule.partition = "ufs";
  rule.cut = CutMode::torn_partial;
  ASSERT_TRUE(injector->add_rule(rule));
  EXPECT_TRUE(injector->erase(5)) << "efs is not ufs";
  ASSERT_TRUE(injector->program({13, 0}, pattern(g().page_size, 1), {}));
  EXPECT_EQ(injector->erase(13).error().code, Errc::power_loss);
  EXPECT_EQ(injector->history().at(0).block, 13U);
  EXPECT_EQ(injector->history().at(0).cut, CutMode::torn_partial);
}

TEST_F(Faults, NextProgramOfAPage) {
  FaultRule rule;
  rule.ops = 1U << static_cast<int>(OpKind::program);
  rule.block_first = rule.block_last = 6;
  rule.page = 2;
  rule.cut = CutMode::after;
  ASSERT_TRUE(injector->add_rule(rule));
  const auto data = pattern(g().page_size, 2);
  EXPECT_TRUE(injector->program({6, 0}, data, {}));
  EXPECT_TRUE(injector->program({6, 1}, data, {}));
  EXPECT_EQ(injector->program({6, 2}, data, {}).error().code, Errc::power_loss);
}

TEST_F(Faults, ProgramAndEraseFailuresGrowBadBlocks) {
  FaultRule program_rule;
  program_rule.ops = 1U << static_cast<int>(OpKind::program);
  program_rule.effect = FaultEffect::program_fail;
  program_rule.block_first = program_rule.block_last = 7;
  ASSERT_TRUE(injector->add_rule(program_rule));
  EXPECT_EQ(injector->program({7, 0}, pattern(g().page_size, 3), {}).error().code,
            Errc::program_fail);
  EXPECT_EQ(injector->erase(7).error().code, Errc::erase_fail) << "a failed block stays failed";

  FaultRule erase_rule;
  erase_rule.ops = 1U << static_cast<int>(OpKind::erase);
  erase_rule.effect = FaultEffect::erase_fail;
  ASSERT_TRUE(injector->add_rule(erase_rule));
  EXPECT_EQ(injector->erase(8).error().code, Errc::erase_fail);
  EXPECT_TRUE(chip->powered()) << "a FAIL status is not a power cut";
}

TEST_F(Faults, BitFlipsUncorrectableAndUnstableOnRead) {
  const auto data = pattern(g().page_size, 4);
  ASSERT_TRUE(chip->program({9, 0}, data, {}));
  ASSERT_TRUE(chip->program({9, 1}, data, {}));
  ASSERT_TRUE(chip->program({9, 2}, data, {}));
  FaultRule flips;
  flips.ops = 1U << static_cast<int>(OpKind::read);
  flips.effect = FaultEffect::bit_flips;
  flips.bits = 2;
  flips.block_first = flips.block_last = 9;
  flips.page = 0;
  ASSERT_TRUE(injector->add_rule(flips));
  auto main = main_buf();
  auto info = injector->read({9, 0}, main, {});
  ASSERT_TRUE(info);
  EXPECT_EQ(info->corrected_bits, 2U);

  FaultRule ecc = flips;
  ecc.effect = FaultEffect::uncorrectable;
  ecc.page = 1;
  ASSERT_TRUE(injector->add_rule(ecc));
  EXPECT_EQ(injector->read({9, 1}, main, {}).error().code, Errc::uncorrectable);

  FaultRule unstable = flips;
  unstable.effect = FaultEffect::unstable;
  unstable.page = 2;
  ASSERT_TRUE(injector->add_rule(unstable));
  (void)injector->read({9, 2}, main, {});
  EXPECT_TRUE(storage->page_meta({9, 2}).flags & kUnstable);
}

TEST_F(Faults, SeededProbabilityReplays) {
  auto run = [&](std::uint64_t seed) {
    auto s = Storage::create_in_memory(g()).value();
    SimulatedChip c(*s, {});
    FaultInjector inj(c, nullptr, seed);
    FaultRule rule;
    rule.ops = 1U << static_cast<int>(OpKind::read);
    rule.trigger = Trigger::probability;
    rule.p = 0.1;
    rule.max_fires = 0;
    rule.effect = FaultEffect::bit_flips;
    EXPECT_TRUE(inj.add_rule(rule));
    std::vector<std::uint8_t> main(2048);
    std::vector<std::uint64_t> fired;
    for (int i = 0; i < 200; ++i)
      (void)inj.read({1, static_cast<std::uint32_t>(i % 64)}, main, {});
    for (const auto& e : inj.history())
      fired.push_back(e.operation);
    return fired;
  };
  const auto a = run(1234);
  EXPECT_GT(a.size(), 5U);
  EXPECT_LT(a.size(), 50U);
  EXPECT_EQ(run(1234), a);
  EXPECT_NE(run(4321), a);
}

TEST_F(Faults, TornRandomResolvesToATornModeFromTheSeed) {
  std::set<CutMode> modes;
  for (std::uint32_t b = 20; b < 30; ++b) {
    ASSERT_TRUE(injector->arm_power_cut(1, CutMode::torn_random));
    EXPECT_FALSE(injector->erase(b));
    chip->power_up();
    modes.insert(injector->history().back().cut);
  }
  EXPECT_EQ(modes, (std::set<CutMode>{CutMode::torn_partial, CutMode::torn_unstable}));
}

TEST_F(Faults, MalformedRulesAreRefused) {
  FaultRule rule;
  rule.partition = "nope";
  EXPECT_EQ(injector->add_rule(rule).error().code, Errc::invalid_argument);
  rule = {};
  rule.ops = 0;
  EXPECT_FALSE(injector->add_rule(rule));
  rule = {};
  rule.n = 0;
  EXPECT_FALSE(injector->add_rule(rule));
  rule = {};
  rule.effect = FaultEffect::program_fail;  // matches reads and erases too
  EXPECT_FALSE(injector->add_rule(rule));
  rule = {};
  rule.effect = FaultEffect::bit_flips;  // erases have no page to flip
  EXPECT_FALSE(injector->add_rule(rule));
  rule = {};
  rule.trigger = Trigger::probability;
  rule.p = 1.5;
  EXPECT_FALSE(injector->add_rule(rule));
  EXPECT_EQ(injector->rule_count(), 0U);
}

TEST_F(Faults, ListenerHearsEveryFiring) {
  std::vector<FaultEvent> heard;
  injector->set_listener([&](const FaultEvent& e) { heard.push_back(e); });
  ASSERT_TRUE(injector->arm_power_cut(2, CutMode::before));
  auto main = main_buf();
  (void)injector->read({0, 0}, main, {});
  (void)injector->read({0, 1}, main, {});
  ASSERT_EQ(heard.size(), 1U);
  EXPECT_EQ(heard[0].page, 1U);
  EXPECT_EQ(heard[0].effect, FaultEffect::power_cut);
}

TEST_F(Faults, ObserverIsToldOfEveryOperationWithItsNumberKindAndPage) {
  std::vector<std::tuple<std::uint64_t, OpKind, PageAddr>> told;
  injector->set_observer(
      [&](std::uint64_t n, OpKind kind, PageAddr addr) { told.emplace_back(n, kind, addr); });
  auto main = main_buf();
  (void)injector->read({0, 1}, main, {});
  (void)injector->erase(3);
  ASSERT_TRUE(injector->arm_power_cut(1, CutMode::before));
  (void)injector->read({2, 5}, main, {});  // cut: told before the rule strikes
  ASSERT_EQ(told.size(), 3U);
  EXPECT_EQ(told[0], std::make_tuple(1ULL, OpKind::read, PageAddr{0, 1}));
  EXPECT_EQ(std::get<0>(told[1]), 2U);
  EXPECT_EQ(std::get<1>(told[1]), OpKind::erase);
  EXPECT_EQ(std::get<2>(told[1]).block, 3U);
  EXPECT_EQ(told[2], std::make_tuple(3ULL, OpKind::read, PageAddr{2, 5}));
}

}  // namespace
}  // namespace vmodem::nand::testing
