// Power cut at every NAND operation of backup(), restore() and a record
// write; after each cut: power up, reopen, check what info() says and that a
// restore gives exactly the old or the new state. The backup and restore
// sweeps run on the campaign engine (nand/campaign.hpp): the quick tier cuts
// every third operation (and the last) torn; the full tier
// (BackupPowerLossFull.*, ctest -L full) every operation in three cut modes.
#include <cstdio>
#include <functional>

#include <vmodem/nand/campaign.hpp>

#include "backup_fixture.hpp"
#include "tier.hpp"

namespace vmodem::fs::testing {
namespace {

using nand::campaign::CutPoint;
using nand::campaign::Verdict;

struct Tier {
  std::uint32_t stride;
  std::vector<nand::CutMode> modes;
};
const Tier kQuick{3, {nand::CutMode::torn_random}};
// Torn operations, completed-but-unacknowledged ones, and clean cuts.
const Tier kFull{1, {nand::CutMode::torn_random, nand::CutMode::after, nand::CutMode::before}};

Status cut_during(BackupRig& rig, std::uint64_t n, const std::function<Status()>& op) {
  EXPECT_TRUE(rig.injector->arm_power_cut(n, nand::CutMode::torn_random));
  return op();
}

// Old state backed up, new state on the partition (unmounted), snapshot taken.
struct Scenario {
  explicit Scenario(PowerLossMode mode) : rig(options(mode)) {
    rig.format();
    rig.mount();
    fill_factory(rig);
    old_tree = tree_of(*rig.fs);
    EXPECT_TRUE(rig.open_engine().backup(*rig.fs));
    rig.put("/test.txt", text("created after the backup"));
    EXPECT_TRUE(rig.fs->unlink("/usb_cfg"));
    rig.put("/nv/item_files/rf_cal", bytes(30000, 2));
    new_tree = tree_of(*rig.fs);
    rig.unmount();
    rig.storage->snapshot_begin();
  }
  static BackupOptions options(PowerLossMode mode) {
    BackupOptions o;
    o.mode = mode;
    return o;
  }
  BackupEngine& fresh() {
    rig.storage->snapshot_rollback();
    return rig.power_cycle();
  }
  BackupRig rig;
  Tree old_tree, new_tree;
};

// A scenario's action under the campaign engine: rewound to the scenario,
// the operation count starts where the action does.
class ScenarioCase : public nand::campaign::InjectorCase {
 public:
  explicit ScenarioCase(PowerLossMode mode) : sc_(mode) {}
  nand::FaultInjector& injector() override { return *sc_.rig.injector; }
  void rewind() override {
    engine_ = &sc_.fresh();
    prepare();
    sc_.rig.injector->reset_operation_count();
  }

 protected:
  // What precedes the action after the rewind (not counted).
  virtual void prepare() {}
  static bool power_lost(const Status& s) { return !s && s.error().code == Errc::power_loss; }

  Scenario sc_;
  BackupEngine* engine_ = nullptr;
};

// AT+QPRTPARA=1's engine call, backup(), cut.
class BackupCut : public ScenarioCase {
 public:
  explicit BackupCut(PowerLossMode mode) : ScenarioCase(mode), mode_(mode) {}
  bool act() override { return power_lost(engine_->backup(*sc_.rig.fs)); }
  Verdict verify(const CutPoint& point) override {
    auto& rig = sc_.rig;
    rig.fs.reset();
    engine_ = &rig.power_cycle();
    const auto info = engine_->info();
    const std::string at = "cut " + point.id();
    if (!info.valid) {
      if (mode_ == PowerLossMode::safe) return Verdict::fail("backup lost", at);
      if (rig.mounted_tree() != sc_.new_tree) return Verdict::fail("file system touched", at);
      return Verdict::pass("backup invalid");
    }
    if (info.backup_count != 1 && info.backup_count != 2)
      return Verdict::fail("backup count " + std::to_string(info.backup_count), at);
    const bool is_new = info.backup_count == 2;
    if (auto r = engine_->restore(0); !r)
      return Verdict::fail("restore failed", at + ": " + r.error().message());
    if (rig.mounted_tree() != (is_new ? sc_.new_tree : sc_.old_tree))
      return Verdict::fail("restored the wrong tree", at);
    if (engine_->info().restore_count != 1) return Verdict::fail("restore not counted", at);
    return Verdict::pass(is_new ? "new backup valid" : "old backup valid");
  }

 private:
  void prepare() override { sc_.rig.mount(); }
  PowerLossMode mode_;
};

// Boot after a cut: the decision, executed. Returns the decision.
BootDecision boot(BackupRig& rig, BackupEngine& engine) {
  auto m = rig.try_mount();
  std::optional<Error> err;
  if (!m) err = m.error();
  m = {};
  auto d = engine.at_boot(err);
  if (d.action == BootAction::restore) {
    auto s = engine.restore(d.probe);
    EXPECT_TRUE(s) << s.error().message();
  }
  return d;
}

// A restore for probe 4, cut; one cut in five is cut again while the next
// boot resumes it (two levels deep).
class RestoreCut : public ScenarioCase {
 public:
  RestoreCut() : ScenarioCase(PowerLossMode::real) {}
  bool act() override { return power_lost(engine_->restore(4)); }
  Verdict verify(const CutPoint& point) override {
    auto& rig = sc_.rig;
    engine_ = &rig.power_cycle();
    const auto info = engine_->info();
    const std::string at = "cut " + point.id();
    if (!info.restore_in_progress) {
      // Never a half-restored file system reported good: either untouched
      // (nothing counted) or wholly restored (counted).
      if (info.restore_count > 1) return Verdict::fail("restore counted twice", at);
      if (boot(rig, *engine_).action != BootAction::none)
        return Verdict::fail("boot acted on a finished restore", at);
      const bool done = info.restore_count == 1;
      if (rig.mounted_tree() != (done ? sc_.old_tree : sc_.new_tree))
        return Verdict::fail("half-restored tree", at);
      return Verdict::pass(done ? "restore done" : "untouched");
    }
    std::string outcome = "resumed";
    if (point.operation % 5 == 1) {
      (void)rig.injector->arm_power_cut(point.operation / 2 + 1, point.mode);
      if (!power_lost(engine_->restore(info.restore_probe)))
        return Verdict::fail("second cut missed", at);
      engine_ = &rig.power_cycle();
      outcome = "resumed after a second cut";
    }
    const auto d = boot(rig, *engine_);
    if (d.action != BootAction::restore || !d.resumed || d.probe != 4)
      return Verdict::fail("the boot did not resume the restore", at);
    if (rig.mounted_tree() != sc_.old_tree) return Verdict::fail("restored the wrong tree", at);
    const auto after = engine_->info();
    if (after.restore_count != 1 || after.probe_counts[3] != 1 || after.restore_in_progress)
      return Verdict::fail("counters after the resumed restore", at);
    return Verdict::pass(outcome);
  }
};

nand::campaign::Result sweep(nand::campaign::Case& c, const Tier& tier, nand::CutMode mode,
                             const std::string& what) {
  nand::campaign::Plan plan;
  plan.modes = {mode};
  plan.stride = tier.stride;
  const auto result = nand::campaign::run(c, plan);
  std::printf("%s (cut %s, stride %u): %s", what.c_str(),
              std::string(nand::to_string(mode)).c_str(), tier.stride, result.describe().c_str());
  EXPECT_EQ(result.failed, 0u) << result.describe();
  return result;
}

void backup_sweep(PowerLossMode mode, const Tier& tier) {
  BackupCut cut(mode);
  for (const auto m : tier.modes) {
    const auto r =
        sweep(cut, tier, m,
              mode == PowerLossMode::real ? "backup cuts, real mode" : "backup cuts, safe mode");
    if (mode == PowerLossMode::real) {
      EXPECT_GT(r.count("backup invalid"), 0u);
    }
    EXPECT_GT(r.count("new backup valid"), 0u);
  }
}

void restore_sweep(const Tier& tier) {
  RestoreCut cut;
  for (const auto m : tier.modes) {
    const auto r = sweep(cut, tier, m, "restore cuts");
    EXPECT_GT(r.count("resumed") + r.count("resumed after a second cut"), 0u);
  }
}

TEST(BackupPowerLoss, CutAtEveryOperationOfBackupRealMode) {
  backup_sweep(PowerLossMode::real, kQuick);
}
TEST(BackupPowerLoss, CutAtEveryOperationOfBackupSafeMode) {
  backup_sweep(PowerLossMode::safe, kQuick);
}
TEST(BackupPowerLoss, CutAtEveryOperationOfRestore) {
  restore_sweep(kQuick);
}
TEST(BackupPowerLossFull, CutAtEveryOperationOfBackupRealMode) {
  VMODEM_FULL_TIER_ONLY();
  backup_sweep(PowerLossMode::real, kFull);
}
TEST(BackupPowerLossFull, CutAtEveryOperationOfBackupSafeMode) {
  VMODEM_FULL_TIER_ONLY();
  backup_sweep(PowerLossMode::safe, kFull);
}
TEST(BackupPowerLossFull, CutAtEveryOperationOfRestore) {
  VMODEM_FULL_TIER_ONLY();
  restore_sweep(kFull);
}

// A record write cut at every operation, also where a lane rolls over to
// its next block (erase + first page): only the newest record may be lost.
TEST(BackupPowerLoss, TornRecordWriteLosesAtMostTheNewest) {
  for (int prefill : {0, 60, 61, 62, 63}) {
    Scenario sc(PowerLossMode::real);
    auto& rig = sc.rig;
    rig.storage->snapshot_end();
    auto* engine = &rig.power_cycle();
    for (int i = 0; i < prefill; ++i)
      ASSERT_TRUE(engine->note_boot_started());
    const auto base = engine->info();
    rig.storage->snapshot_begin();
    int kept = 0, lost = 0;
    for (std::uint64_t n = 1;; ++n) {
      engine = &sc.fresh();
      auto s = cut_during(rig, n, [&] { return engine->note_boot_started(); });
      if (s) break;  // the write needs fewer than n operations
      engine = &rig.power_cycle();
      const auto info = engine->info();
      ASSERT_TRUE(info.boot_attempts == base.boot_attempts ||
                  info.boot_attempts == base.boot_attempts + 1)
          << "prefill " << prefill << " cut " << n;
      (info.boot_attempts == base.boot_attempts ? lost : kept)++;
      EXPECT_TRUE(info.valid);
      EXPECT_EQ(info.backup_count, 1u);
      // The log still works after the cut.
      ASSERT_TRUE(engine->note_boot_started());
      EXPECT_EQ(rig.power_cycle().info().boot_attempts, info.boot_attempts + 1);
    }
    std::printf("record cuts (prefill %d): newest lost %d, kept %d\n", prefill, lost, kept);
  }
}

TEST(BackupPowerLoss, ForcedRestoreFlagSurvivesCuts) {
  Scenario sc(PowerLossMode::real);
  auto& rig = sc.rig;
  for (std::uint64_t n = 1;; ++n) {
    auto* engine = &sc.fresh();
    auto s = cut_during(rig, n, [&] { return engine->schedule_restore(); });
    if (s) break;
    engine = &rig.power_cycle();
    if (!engine->info().restore_pending) continue;  // cut before it was durable
    // Pending survives another plain power cycle, then the boot restores.
    engine = &rig.power_cycle();
    ASSERT_TRUE(engine->info().restore_pending);
    auto d = boot(rig, *engine);
    EXPECT_EQ(d.action, BootAction::restore);
    EXPECT_EQ(d.probe, kForcedRestore);
    EXPECT_EQ(rig.mounted_tree(), sc.old_tree);
    EXPECT_FALSE(engine->info().restore_pending);
  }
  // Scheduled, then the forced restore at boot is cut: the next boot resumes.
  auto* engine = &sc.fresh();
  ASSERT_TRUE(engine->schedule_restore());
  engine = &rig.power_cycle();
  ASSERT_FALSE(cut_during(rig, 200, [&] { return engine->restore(kForcedRestore); }));
  engine = &rig.power_cycle();
  EXPECT_TRUE(engine->info().restore_pending);
  auto d = boot(rig, *engine);
  EXPECT_EQ(d.action, BootAction::restore);
  EXPECT_EQ(rig.mounted_tree(), sc.old_tree);
  EXPECT_EQ(engine->info().restore_count, 1u);
  EXPECT_EQ(engine->info().probe_counts, (std::array<std::uint32_t, 10>{}));
}

}  // namespace
}  // namespace vmodem::fs::testing
