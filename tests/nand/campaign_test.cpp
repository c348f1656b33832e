// The campaign engine's plan: which cuts a plan makes, how a cut is named,
// and that a name replays it; and that cuts branched off one uncut run are
// the cuts replays make.
#include <algorithm>
#include <functional>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include <vmodem/nand/campaign.hpp>
#include <vmodem/nand/chip.hpp>
#include <vmodem/nand/storage.hpp>

#include "nand_fixture.hpp"

namespace vmodem::nand::campaign {
namespace {

TEST(CampaignPlan, EveryOperationInEveryModeByDefault) {
  Plan plan;
  plan.modes = {CutMode::before, CutMode::torn_partial};
  const auto points = cut_points(plan, 5);
  ASSERT_EQ(points.size(), 10U);
  EXPECT_EQ(points.front(), (CutPoint{1, CutMode::before}));
  EXPECT_EQ(points[4], (CutPoint{5, CutMode::before}));
  EXPECT_EQ(points.back(), (CutPoint{5, CutMode::torn_partial}));
}

TEST(CampaignPlan, ASampleIsSeededDistinctAndInsideTheWindow) {
  Plan plan;
  plan.sample = 20;
  plan.seed = 3;
  plan.first = 100;
  plan.last = 400;
  const auto points = cut_points(plan, 1000);
  ASSERT_EQ(points.size(), 20U);
  for (std::size_t i = 0; i < points.size(); ++i) {
    EXPECT_GE(points[i].operation, 100U);
    EXPECT_LE(points[i].operation, 400U);
    if (i > 0) {
      EXPECT_LT(points[i - 1].operation, points[i].operation);
    }
  }
  EXPECT_EQ(points.back().operation, 400U) << "the window's last operation is always cut";
  EXPECT_EQ(cut_points(plan, 1000), points) << "the same seed, the same points";
  plan.seed = 4;
  EXPECT_NE(cut_points(plan, 1000), points);
}

TEST(CampaignPlan, AWindowPastTheActionOrASampleLargerThanItCutsWhatThereIs) {
  Plan plan;
  plan.first = 8;
  EXPECT_TRUE(cut_points(plan, 5).empty());
  plan.first = 1;
  plan.sample = 50;
  EXPECT_EQ(cut_points(plan, 5).size(), 5U);
}

TEST(CampaignPlan, AStrideKeepsTheLastOperation) {
  Plan plan;
  plan.stride = 3;
  std::vector<std::uint64_t> ops;
  for (const auto& p : cut_points(plan, 8))
    ops.push_back(p.operation);
  EXPECT_EQ(ops, (std::vector<std::uint64_t>{1, 4, 7, 8}));
}

TEST(CampaignPlan, AFilterLimitsTheCutsToTheOperationsItAccepts) {
  Plan plan;
  plan.eligible = [](std::uint64_t n) { return n % 5 == 0; };  // say, one partition's
  plan.last = 48;
  std::vector<std::uint64_t> ops;
  for (const auto& p : cut_points(plan, 100))
    ops.push_back(p.operation);
  EXPECT_EQ(ops, (std::vector<std::uint64_t>{5, 10, 15, 20, 25, 30, 35, 40, 45}));
  plan.sample = 4;
  plan.seed = 9;
  const auto sampled = cut_points(plan, 100);
  ASSERT_EQ(sampled.size(), 4U);
  for (const auto& p : sampled)
    EXPECT_EQ(p.operation % 5, 0U) << p.operation;
  EXPECT_EQ(sampled.back().operation, 45U) << "the last accepted operation is always cut";
  plan.eligible = [](std::uint64_t) { return false; };
  EXPECT_TRUE(cut_points(plan, 100).empty());
}

TEST(CampaignPlan, ACutsIdNamesItAndParsesBack) {
  const CutPoint point{137, CutMode::torn_unstable};
  EXPECT_EQ(point.id(), "137@torn_unstable");
  EXPECT_EQ(CutPoint::parse(point.id()), point);
  for (const char* bad : {"", "@before", "0@before", "12", "12@", "12@sideways", "-3@after",
                          "1x@after", "99999999999999999999999@after"}) {
    EXPECT_FALSE(CutPoint::parse(bad)) << bad;
  }
  Plan plan;
  plan.only = point;
  EXPECT_EQ(cut_points(plan, 10), std::vector<CutPoint>{point}) << "replayed even past the end";
}

TEST(CampaignPlan, ASecondCutsIdNamesBothAndParsesBack) {
  const CutPoint point{137, CutMode::torn_unstable, 12, CutMode::before};
  EXPECT_TRUE(point.nested());
  EXPECT_EQ(point.id(), "137@torn_unstable/12@before");
  EXPECT_EQ(CutPoint::parse(point.id()), point);
  EXPECT_EQ(point.first(), (CutPoint{137, CutMode::torn_unstable}));
  EXPECT_FALSE(point.first().nested());
  for (const char* bad : {"137@before/", "137@before/0@after", "137@before/12", "/12@after",
                          "137@before/12@after/3@before", "137@before/x@after"}) {
    EXPECT_FALSE(CutPoint::parse(bad)) << bad;
  }
}

// Second cuts in a recovery boot: none unless asked; a seeded sample of the
// boot's operations (the same for the same first cut, another for another),
// each in the plan's modes in order; all of them when the boot is short;
// only those the filter accepts.
TEST(CampaignPlan, SecondCutsAreASeededSampleOfTheRecoveryBoot) {
  Plan plan;
  plan.seed = 9;
  const CutPoint first{40, CutMode::torn_partial};
  EXPECT_TRUE(recovery_points(plan, first, 500).empty());
  plan.recovery.sample = 5;
  plan.recovery.modes = {CutMode::before, CutMode::torn_unstable};
  const auto points = recovery_points(plan, first, 500);
  ASSERT_EQ(points.size(), 10U);
  for (std::size_t i = 0; i < points.size(); ++i) {
    EXPECT_EQ(points[i].first(), first);
    EXPECT_GE(points[i].boot_operation, 1U);
    EXPECT_LE(points[i].boot_operation, 500U);
    EXPECT_EQ(points[i].boot_mode, i % 2 == 0 ? CutMode::before : CutMode::torn_unstable);
    if (i >= 2) {
      EXPECT_GT(points[i].boot_operation, points[i - 2].boot_operation);
    }
  }
  EXPECT_EQ(recovery_points(plan, first, 500), points);
  EXPECT_NE(recovery_points(plan, {41, CutMode::torn_partial}, 500)[0].boot_operation ^
                recovery_points(plan, {42, CutMode::torn_partial}, 500)[0].boot_operation ^
                points[0].boot_operation,
            0U)
      << "other first cuts draw other boot operations";
  EXPECT_EQ(recovery_points(plan, first, 3).size(), 6U) << "a short boot: all of it";
  EXPECT_TRUE(recovery_points(plan, first, 0).empty());
  plan.recovery.eligible = [](std::uint64_t n) { return n % 100 == 0; };
  const auto filtered = recovery_points(plan, first, 500);
  ASSERT_EQ(filtered.size(), 10U);
  for (const auto& p : filtered)
    EXPECT_EQ(p.boot_operation % 100, 0U);
}

TEST(CampaignPlan, ShardsAreDisjointAndTogetherTheWholePlan) {
  Plan plan;
  plan.modes = {CutMode::before, CutMode::torn_partial};
  plan.sample = 17;
  plan.seed = 5;
  const auto whole = cut_points(plan, 300);
  ASSERT_EQ(whole.size(), 34U);
  for (const std::uint32_t n : {1U, 2U, 3U, 7U, 40U}) {
    std::vector<CutPoint> joined;
    for (std::uint32_t i = 0; i < n; ++i) {
      plan.shard = {i, n};
      const auto part = cut_points(plan, 300);
      EXPECT_LE(part.size(), whole.size() / n + 1) << i << "/" << n;
      EXPECT_GE(part.size(), whole.size() / n) << i << "/" << n;
      joined.insert(joined.end(), part.begin(), part.end());
    }
    auto by_position = [&](const CutPoint& a, const CutPoint& b) {
      return std::find(whole.begin(), whole.end(), a) < std::find(whole.begin(), whole.end(), b);
    };
    std::sort(joined.begin(), joined.end(), by_position);
    EXPECT_EQ(joined, whole) << n << " shards";
  }
  // A shard split again is a finer shard: {1, 3} split as {1, 2} is {4, 6}.
  plan.shard = {1, 3};
  const auto shard = cut_points(plan, 300);
  plan.shard = {4, 6};
  const auto finer = cut_points(plan, 300);
  std::vector<CutPoint> every_other;
  for (std::size_t k = 1; k < shard.size(); k += 2)
    every_other.push_back(shard[k]);
  EXPECT_EQ(finer, every_other);
}

// An action over a bare chip: erase three blocks, program and read back
// four pages of each, then a partial program of a spare byte. Its verdict's
// outcome is a digest of the whole flash right after the cut (power back
// on): two ways of reaching the same cuts must tally the same digests.
class ChipCase : public testing::ChipBranchingCase {
 public:
  static constexpr std::uint64_t kSeed = 99;
  ChipCase() : ChipBranchingCase(12, kSeed) { start(); }
  bool act() override {
    std::vector<std::uint8_t> page(2048), main(2048);
    ++acts_;
    for (std::uint32_t b = 2; b < 2 + blocks_; ++b) {
      if (!injector_.erase(b)) return !chip_.powered();
      for (std::uint32_t p = 0; p < 4; ++p) {
        std::fill(page.begin(), page.end(), static_cast<std::uint8_t>(b * 16 + p));
        if (!injector_.program({b, p}, page, {})) return !chip_.powered();
        if (!injector_.read({b, p}, main, {})) return !chip_.powered();
      }
    }
    const std::vector<std::uint8_t> marker{0x00, 0x11};
    (void)injector_.program_partial({4, 5}, 2048 + 8, marker);
    return !chip_.powered();
  }
  Verdict verify(const CutPoint&) override {
    chip_.power_up();
    return Verdict::pass(digest());
  }

 private:
  // Every page's raw cells and program count.
  std::string digest() {
    const Geometry& g = storage_->geometry();
    std::vector<std::uint8_t> raw(g.raw_page_size());
    std::uint64_t hash = 0;
    for (std::uint32_t b = 0; b < g.block_count; ++b) {
      for (std::uint32_t p = 0; p < g.pages_per_block; ++p) {
        storage_->read_cells({b, p}, 0, raw);
        const std::string_view bytes(reinterpret_cast<const char*>(raw.data()), raw.size());
        hash = Rng::mix(hash, std::hash<std::string_view>{}(bytes));
        hash = Rng::mix(hash, storage_->page_meta({b, p}).program_count);
      }
    }
    return std::to_string(hash);
  }

 protected:
  std::uint32_t blocks_ = 3;  // erased and programmed by the action
  int acts_ = 0;
};

using Cuts = std::vector<std::pair<std::string, std::string>>;  // id, outcome

enum class Way { replayed, branched };

// The cuts `plan` makes over a fresh ChipCase, reached `way`.
Cuts cuts_of(Way way, const Plan& plan, Result* result) {
  ChipCase c;
  Cuts cuts;
  Options options;
  options.on_cut = [&](const CutPoint& point, const Verdict& verdict) {
    cuts.emplace_back(point.id(), verdict.outcome);
  };
  *result = way == Way::branched ? run_branched(c, plan, options) : run(c, plan, options);
  // Branched, the cuts come operation by operation (every mode's at one
  // operation together); replayed, mode by mode: compared as sets.
  std::ranges::sort(cuts);
  return cuts;
}

TEST(CampaignBranches, EveryCutBranchedLeavesTheFlashAReplayLeaves) {
  Plan plan;
  plan.modes = {CutMode::before, CutMode::after, CutMode::torn_partial, CutMode::torn_unstable,
                CutMode::torn_random};
  Result replayed, branched;
  const Cuts by_replay = cuts_of(Way::replayed, plan, &replayed);
  const Cuts by_branch = cuts_of(Way::branched, plan, &branched);
  EXPECT_EQ(replayed.operations, 28U) << "3 erases, 12 programs, 12 reads, 1 partial program";
  EXPECT_EQ(branched.operations, replayed.operations);
  EXPECT_EQ(branched.cuts, replayed.operations * plan.modes.size());
  EXPECT_EQ(branched.not_reached, 0U);
  EXPECT_EQ(branched.failed, 0U) << branched.describe();
  EXPECT_EQ(by_branch, by_replay) << "the same cuts, the same flash after each";
  EXPECT_EQ(branched.tally, replayed.tally);
  EXPECT_GT(branched.tally.size(), 10U) << "cuts at different operations leave different flash";
}

TEST(CampaignBranches, ASampleOrOneCutBranchesOnlyThere) {
  Plan plan;
  plan.modes = {CutMode::torn_partial};
  plan.sample = 5;
  plan.seed = 3;
  Result replayed, branched;
  const Cuts by_replay = cuts_of(Way::replayed, plan, &replayed);
  const Cuts by_branch = cuts_of(Way::branched, plan, &branched);
  EXPECT_EQ(branched.cuts, 5U);
  EXPECT_EQ(by_branch, by_replay);
  plan.only = CutPoint::parse(by_replay[2].first);
  const Cuts one = cuts_of(Way::branched, plan, &branched);
  EXPECT_EQ(one, Cuts{by_replay[2]}) << "an id replays its cut alone, branched too";
}

TEST(CampaignBranches, AStopEndsTheCampaignBeforeTheNextCutEitherWay) {
  Plan plan;
  plan.modes = {CutMode::before, CutMode::after};
  for (const Way way : {Way::replayed, Way::branched}) {
    ChipCase c;
    Options options;
    std::uint64_t seen = 0;
    options.on_cut = [&](const CutPoint&, const Verdict&) { ++seen; };
    options.stop = [&] { return seen >= 5; };
    const Result result =
        way == Way::branched ? run_branched(c, plan, options) : run(c, plan, options);
    EXPECT_TRUE(result.stopped);
    EXPECT_EQ(result.cuts, 5U);
    EXPECT_EQ(result.not_reached, 0U) << "points not cut after a stop are not 'not reached'";
    EXPECT_EQ(result.failed, 0U) << result.describe();
  }
  ChipCase c;
  EXPECT_FALSE(run(c, plan).stopped);
}

// An action that does less after its measurement (not repeatable): the
// branched run misses planned cuts, which is a failure, not "not reached".
class ShrinkingCase : public ChipCase {
  bool act() override {
    if (acts_ == 1) blocks_ = 2;
    return ChipCase::act();
  }
};

TEST(CampaignBranches, AnUncutRunShorterThanItsMeasurementFails) {
  ShrinkingCase c;
  Plan plan;
  plan.modes = {CutMode::after};
  const Result result = run_branched(c, plan);
  EXPECT_EQ(result.failed, 1U) << result.describe();
  ASSERT_EQ(result.failures.size(), 1U);
  EXPECT_EQ(result.failures[0].id, "uncut");
  EXPECT_GT(result.not_reached, 0U);
}

TEST(CampaignBranches, APointPastTheActionIsNotReached) {
  Plan plan;
  plan.only = CutPoint{100000, CutMode::after};
  Result result;
  EXPECT_TRUE(cuts_of(Way::branched, plan, &result).empty());
  EXPECT_EQ(result.not_reached, 1U);
  EXPECT_EQ(result.failed, 0U);
}

}  // namespace
}  // namespace vmodem::nand::campaign
