// The campaign engine's plan: which cuts a plan makes, how a cut is named,
// and that a name replays it.
#include <algorithm>

#include <gtest/gtest.h>

#include <vmodem/nand/campaign.hpp>

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

}  // namespace
}  // namespace vmodem::nand::campaign
