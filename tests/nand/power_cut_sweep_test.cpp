// A power cut at every operation of a sample workload, in every cut mode:
// the torn state must be exactly what the mode promises.
#include <functional>

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

TEST(PowerCutSweep, EveryOperationEveryMode) {
  auto storage = Storage::create_in_memory(small_geometry(8)).value();
  SimulatedChip chip(*storage, {});
  FaultInjector injector(chip, nullptr, 7);
  const auto steps = sample_workload();
  const std::uint32_t ppb = storage->geometry().pages_per_block;

  // Reference cells after k clean steps, k = 0..n.
  storage->snapshot_begin();
  std::vector<Cells> reference{snapshot_cells(*storage)};
  for (const auto& step : steps) {
    ASSERT_TRUE(run_step(chip, step));
    reference.push_back(snapshot_cells(*storage));
  }
  storage->snapshot_rollback();

  std::uint32_t cuts = 0;
  for (const CutMode mode :
       {CutMode::before, CutMode::after, CutMode::torn_partial, CutMode::torn_unstable}) {
    for (std::size_t i = 0; i < steps.size(); ++i) {
      SCOPED_TRACE("cut at step " + std::to_string(i) + " mode " + std::string(to_string(mode)));
      storage->snapshot_rollback();
      chip.power_up();
      injector.clear_rules();
      injector.reset_operation_count();
      ASSERT_TRUE(injector.arm_power_cut(i + 1, mode));
      for (std::size_t k = 0; k < i; ++k)
        ASSERT_TRUE(run_step(injector, steps[k]));
      const Status cut = run_step(injector, steps[i]);
      ASSERT_FALSE(cut);
      ASSERT_EQ(cut.error().code, Errc::power_loss);
      ASSERT_EQ(run_step(injector, steps[i]).error().code, Errc::power_loss) << "stays off";
      chip.power_up();
      ++cuts;

      const Cells now = snapshot_cells(*storage);
      const Step& step = steps[i];
      const Cells& before = reference[i];
      const Cells& after = reference[i + 1];
      const bool clean =
          mode == CutMode::before || mode == CutMode::after || step.kind == OpKind::read;
      if (clean) {
        ASSERT_EQ(now, mode == CutMode::after && step.kind != OpKind::read ? after : before);
        continue;
      }
      // Torn: every page outside the operation's reach is as before it.
      for (std::uint32_t idx = 0; idx < now.size(); ++idx) {
        const std::uint32_t block = idx / ppb;
        const std::uint32_t page = idx % ppb;
        const bool touched = step.kind == OpKind::erase ? block == step.addr.block
                                                        : PageAddr{block, page} == step.addr;
        if (!touched) {
          ASSERT_EQ(now[idx], before[idx]) << "page " << block << "/" << page;
          continue;
        }
        for (std::size_t byte = 0; byte < now[idx].size(); ++byte) {
          const std::uint8_t b = before[idx][byte], a = after[idx][byte], n = now[idx][byte];
          if (mode == CutMode::torn_unstable) {
            ASSERT_EQ(n, a) << "unstable: the cells completed, only sensing is marginal";
          } else if (step.kind == OpKind::program) {
            ASSERT_EQ(n & ~b, 0) << "torn program set a bit";
            ASSERT_EQ(a & ~n, 0) << "torn program cleared a bit it was not asked to";
          } else {
            ASSERT_EQ(~n & ~b & 0xFF, (~n) & 0xFF)
                << "torn erase: zeros left are a subset of the old ones";
          }
        }
      }
      if (mode == CutMode::torn_unstable) {
        ASSERT_TRUE(
            storage
                ->page_meta(step.kind == OpKind::erase ? PageAddr{step.addr.block, 0} : step.addr)
                .flags &
            kUnstable);
      }
    }
  }
  std::cout << "[ cuts ] " << cuts << " cuts checked over " << steps.size() << " operations\n";
  EXPECT_EQ(cuts, 4 * steps.size());
}

}  // namespace
}  // namespace vmodem::nand::testing
