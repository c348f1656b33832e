// A power cut at every operation of a sample workload, in every cut mode:
// the torn state must be exactly what the mode promises.
#include <functional>
#include <iostream>

#include <vmodem/nand/campaign.hpp>
#include <vmodem/nand/fault.hpp>

#include "nand_fixture.hpp"

namespace vmodem::nand::testing {
namespace {

constexpr std::uint32_t kBlocks = 4;  // the workload stays in blocks 0..3

struct Step {
  OpKind kind;
  PageAddr addr;
  std::vector<std::uint8_t> data;  // programs: full main area
};

std::vector<Step> sample_workload() {
  std::vector<Step> steps;
  for (std::uint32_t b = 0; b < kBlocks; ++b) {
    steps.push_back({OpKind::erase, {b, 0}, {}});
    for (std::uint32_t p = 0; p < 4; ++p)
      steps.push_back({OpKind::program, {b, p}, pattern(2048, b * 10 + p)});
    steps.push_back({OpKind::read, {b, 1}, {}});
  }
  // Rewrite block 1: erase over programmed pages.
  steps.push_back({OpKind::erase, {1, 0}, {}});
  steps.push_back({OpKind::program, {1, 0}, pattern(2048, 99)});
  return steps;
}

Status run_step(Device& device, const Step& step) {
  std::vector<std::uint8_t> main(2048);
  switch (step.kind) {
    case OpKind::erase:
      return device.erase(step.addr.block);
    case OpKind::program:
      return device.program(step.addr, step.data, {});
    case OpKind::read: {
      auto r = device.read(step.addr, main, {});
      return r ? Status{} : Status{tl::unexpected(r.error())};
    }
  }
  return {};
}

using Cells = std::vector<std::vector<std::uint8_t>>;  // [block * ppb + page] raw cells

Cells snapshot_cells(const Storage& storage) {
  const Geometry& g = storage.geometry();
  Cells cells(kBlocks * g.pages_per_block, std::vector<std::uint8_t>(g.raw_page_size()));
  for (std::uint32_t b = 0; b < kBlocks; ++b) {
    for (std::uint32_t p = 0; p < g.pages_per_block; ++p)
      storage.read_cells({b, p}, 0, cells[b * g.pages_per_block + p]);
  }
  return cells;
}

// The sample workload under cuts: the flash rewound to empty, the steps run
// through the injector until the power goes; the verdict compares every
// page's cells with the references before and after the step that was cut.
class SweepCase : public campaign::InjectorCase {
 public:
  SweepCase()
      : storage_(Storage::create_in_memory(small_geometry(8)).value()),
        chip_(*storage_, {}),
        injector_(chip_, nullptr, 7),
        steps_(sample_workload()) {
    // Reference cells after k clean steps, k = 0..n.
    storage_->snapshot_begin();
    reference_.push_back(snapshot_cells(*storage_));
    for (const auto& step : steps_) {
      EXPECT_TRUE(run_step(chip_, step));
      reference_.push_back(snapshot_cells(*storage_));
    }
  }
  std::size_t steps() const { return steps_.size(); }

  FaultInjector& injector() override { return injector_; }
  void rewind() override {
    storage_->snapshot_rollback();
    chip_.power_up();
    injector_.clear_rules();
    injector_.reset_operation_count();
  }
  bool act() override {
    for (cut_step_ = 0; cut_step_ < steps_.size(); ++cut_step_) {
      const Status done = run_step(injector_, steps_[cut_step_]);
      if (done) continue;
      // The power stays off for whatever the host tries next.
      stayed_off_ = done.error().code == Errc::power_loss &&
                    run_step(injector_, steps_[cut_step_]).error().code == Errc::power_loss;
      return done.error().code == Errc::power_loss;
    }
    return false;
  }
  campaign::Verdict verify(const campaign::CutPoint& point) override;

 private:
  std::unique_ptr<Storage> storage_;
  SimulatedChip chip_;
  FaultInjector injector_;
  std::vector<Step> steps_;
  std::vector<Cells> reference_;
  std::size_t cut_step_ = 0;
  bool stayed_off_ = false;
};

campaign::Verdict SweepCase::verify(const campaign::CutPoint& point) {
  using campaign::Verdict;
  chip_.power_up();
  const Step& step = steps_[cut_step_];
  if (cut_step_ + 1 != point.operation) return Verdict::fail("wrong step", "not the armed step");
  if (!stayed_off_) return Verdict::fail("power back", "an operation after the cut succeeded");
  const Cells now = snapshot_cells(*storage_);
  const Cells& before = reference_[cut_step_];
  const Cells& after = reference_[cut_step_ + 1];
  const CutMode mode = point.mode;
  if (mode == CutMode::before || mode == CutMode::after || step.kind == OpKind::read) {
    const bool done = mode == CutMode::after && step.kind != OpKind::read;
    if (now != (done ? after : before))
      return Verdict::fail("clean cut", "the cells are not the state before/after the step");
    return Verdict::pass(done ? "clean, step done" : "clean, step not done");
  }
  // Torn: every page outside the operation's reach is as before it.
  const std::uint32_t ppb = storage_->geometry().pages_per_block;
  for (std::uint32_t idx = 0; idx < now.size(); ++idx) {
    const std::uint32_t block = idx / ppb;
    const std::uint32_t page = idx % ppb;
    const std::string where = "page " + std::to_string(block) + "/" + std::to_string(page);
    const bool touched =
        step.kind == OpKind::erase ? block == step.addr.block : PageAddr{block, page} == step.addr;
    if (!touched) {
      if (now[idx] != before[idx]) return Verdict::fail("torn", where + " changed, out of reach");
      continue;
    }
    for (std::size_t byte = 0; byte < now[idx].size(); ++byte) {
      const std::uint8_t b = before[idx][byte], a = after[idx][byte], n = now[idx][byte];
      if (mode == CutMode::torn_unstable) {
        if (n != a)
          return Verdict::fail("torn", where + ": unstable cells differ from the completed ones");
      } else if (step.kind == OpKind::program) {
        if ((n & ~b) != 0) return Verdict::fail("torn", where + ": torn program set a bit");
        if ((a & ~n) != 0)
          return Verdict::fail("torn", where + ": torn program cleared a bit not asked for");
      } else if ((~n & ~b & 0xFF) != ((~n) & 0xFF)) {
        return Verdict::fail("torn", where + ": torn erase left a zero that was not there");
      }
    }
  }
  if (mode == CutMode::torn_unstable) {
    const PageAddr marked = step.kind == OpKind::erase ? PageAddr{step.addr.block, 0} : step.addr;
    if (!(storage_->page_meta(marked).flags & kUnstable))
      return Verdict::fail("torn", "an unstable cut left no unstable mark");
  }
  return Verdict::pass(step.kind == OpKind::erase ? "torn erase" : "torn program");
}

TEST(PowerCutSweep, EveryOperationEveryMode) {
  SweepCase sweep;
  campaign::Plan plan;
  plan.modes = {CutMode::before, CutMode::after, CutMode::torn_partial, CutMode::torn_unstable};
  const auto result = campaign::run(sweep, plan);
  std::cout << "[ cuts ] " << result.describe();
  EXPECT_EQ(result.operations, sweep.steps());
  EXPECT_EQ(result.failed, 0U) << result.describe();
  EXPECT_EQ(result.cuts, 4 * sweep.steps());
  EXPECT_GT(result.count("torn erase"), 0U);
  EXPECT_GT(result.count("torn program"), 0U);
  EXPECT_GT(result.count("clean, step done"), 0U);
}

// A cut's id replays exactly that cut: the same verdict, alone.
TEST(PowerCutSweep, ACutReplaysAloneFromItsId) {
  SweepCase sweep;
  std::vector<std::pair<campaign::CutPoint, std::string>> seen;
  campaign::Plan plan;
  plan.modes = {CutMode::torn_partial};
  plan.sample = 3;
  plan.seed = 11;
  campaign::Options options;
  options.on_cut = [&](const campaign::CutPoint& point, const campaign::Verdict& verdict) {
    seen.emplace_back(point, verdict.outcome);
  };
  ASSERT_EQ(campaign::run(sweep, plan, options).cuts, 3U);
  ASSERT_EQ(seen.size(), 3U);
  for (const auto& [point, outcome] : seen) {
    campaign::Plan again;
    again.only = campaign::CutPoint::parse(point.id());
    ASSERT_TRUE(again.only) << point.id();
    const auto replayed = campaign::run(sweep, again);
    EXPECT_EQ(replayed.cuts, 1U);
    EXPECT_EQ(replayed.count(outcome), 1U) << point.id();
  }
}

}  // namespace
}  // namespace vmodem::nand::testing
