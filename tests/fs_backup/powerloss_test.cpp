// Power cut at every NAND operation of backup(), restore() and a record
// write; after each cut: power up, reopen, check what info() says and that a
// restore gives exactly the old or the new state. The quick tier samples the
// operations (stride); VMODEM_BACKUP_FULL cuts at every one.
#include <cstdio>
#include <functional>

#include "backup_fixture.hpp"

namespace vmodem::fs::testing {
namespace {

#ifdef VMODEM_BACKUP_FULL
constexpr std::uint64_t kStride = 1;
// Torn operations, completed-but-unacknowledged ones, and clean cuts.
constexpr nand::CutMode kCutModes[] = {nand::CutMode::torn_random, nand::CutMode::after,
                                       nand::CutMode::before};
#else
constexpr std::uint64_t kStride = 3;
constexpr nand::CutMode kCutModes[] = {nand::CutMode::torn_random};
#endif
nand::CutMode g_cut = nand::CutMode::torn_random;  // of the sweep running

// Distinct suite names, so ctest (one name space for both binaries) keeps
// the quick and the full variants apart.
#ifdef VMODEM_BACKUP_FULL
#define BACKUP_POWERLOSS_TEST(name) TEST(BackupPowerLossFull, name)
#else
#define BACKUP_POWERLOSS_TEST(name) TEST(BackupPowerLoss, name)
#endif

// 1, 1 + stride, ... and always the last operation (the final record write).
std::uint64_t next_cut(std::uint64_t n, std::uint64_t ops) {
  return n < ops && n + kStride > ops ? ops : n + kStride;
}

Status cut_during(BackupRig& rig, std::uint64_t n, const std::function<Status()>& op) {
  EXPECT_TRUE(rig.injector->arm_power_cut(n, g_cut));
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

void backup_sweep(PowerLossMode mode) {
  Scenario sc(mode);
  auto& rig = sc.rig;
  // Operations of a complete backup.
  auto* engine = &sc.fresh();
  rig.mount();
  rig.injector->reset_operation_count();
  ASSERT_TRUE(engine->backup(*rig.fs));
  const std::uint64_t ops = rig.injector->operation_count();

  int invalid = 0, old_state = 0, new_state = 0;
  for (std::uint64_t n = 1; n <= ops; n = next_cut(n, ops)) {
    engine = &sc.fresh();
    rig.mount();
    auto s = cut_during(rig, n, [&] { return engine->backup(*rig.fs); });
    ASSERT_FALSE(s) << "cut " << n;
    ASSERT_EQ(s.error().code, Errc::power_loss);
    rig.fs.reset();
    engine = &rig.power_cycle();
    const auto info = engine->info();
    if (!info.valid) {
      ASSERT_EQ(mode, PowerLossMode::real) << "safe mode lost its backup at cut " << n;
      ++invalid;
      EXPECT_EQ(rig.mounted_tree(), sc.new_tree);  // the file system is untouched
      continue;
    }
    ASSERT_TRUE(info.backup_count == 1 || info.backup_count == 2) << n;
    const Tree& expect = info.backup_count == 1 ? sc.old_tree : sc.new_tree;
    (info.backup_count == 1 ? old_state : new_state)++;
    auto r = engine->restore(0);
    ASSERT_TRUE(r) << "cut " << n << ": " << r.error().message();
    ASSERT_EQ(rig.mounted_tree(), expect) << "cut " << n;
    EXPECT_EQ(engine->info().restore_count, 1u);
  }
  std::printf("backup cuts (%s mode, cut %s, %llu ops, stride %llu): invalid %d, old %d, new %d\n",
              mode == PowerLossMode::real ? "real" : "safe",
              std::string(nand::to_string(g_cut)).c_str(), static_cast<unsigned long long>(ops),
              static_cast<unsigned long long>(kStride), invalid, old_state, new_state);
  if (mode == PowerLossMode::safe) {
    EXPECT_EQ(invalid, 0);
  } else {
    EXPECT_GT(invalid, 0);
  }
  EXPECT_GT(new_state, 0);
}

BACKUP_POWERLOSS_TEST(CutAtEveryOperationOfBackupRealMode) {
  for (auto cut : kCutModes) {
    g_cut = cut;
    backup_sweep(PowerLossMode::real);
  }
}
BACKUP_POWERLOSS_TEST(CutAtEveryOperationOfBackupSafeMode) {
  for (auto cut : kCutModes) {
    g_cut = cut;
    backup_sweep(PowerLossMode::safe);
  }
}

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

void restore_sweep() {
  Scenario sc(PowerLossMode::real);
  auto& rig = sc.rig;
  auto* engine = &sc.fresh();
  rig.injector->reset_operation_count();
  ASSERT_TRUE(engine->restore(4));
  const std::uint64_t ops = rig.injector->operation_count();

  int untouched = 0, done = 0, resumed = 0, two_deep = 0;
  for (std::uint64_t n = 1; n <= ops; n = next_cut(n, ops)) {
    engine = &sc.fresh();
    ASSERT_FALSE(cut_during(rig, n, [&] { return engine->restore(4); })) << n;
    engine = &rig.power_cycle();
    auto info = engine->info();
    if (!info.restore_in_progress) {
      // Never a half-restored file system reported good: either untouched
      // (nothing counted) or wholly restored (counted).
      ASSERT_LE(info.restore_count, 1u);
      ASSERT_EQ(boot(rig, *engine).action, BootAction::none) << n;
      ASSERT_EQ(rig.mounted_tree(), info.restore_count == 0 ? sc.new_tree : sc.old_tree) << n;
      (info.restore_count == 0 ? untouched : done)++;
      continue;
    }
    ++resumed;
    if (n % 5 == 1) {
      // Two levels deep: the resumed restore is cut too.
      ASSERT_FALSE(cut_during(rig, n / 2 + 1, [&] { return engine->restore(info.restore_probe); }));
      engine = &rig.power_cycle();
      ++two_deep;
    }
    auto d = boot(rig, *engine);
    ASSERT_EQ(d.action, BootAction::restore) << n;
    EXPECT_TRUE(d.resumed);
    EXPECT_EQ(d.probe, 4);
    ASSERT_EQ(rig.mounted_tree(), sc.old_tree) << n;
    const auto after = engine->info();
    EXPECT_EQ(after.restore_count, 1u);
    EXPECT_EQ(after.probe_counts[3], 1u);
    EXPECT_FALSE(after.restore_in_progress);
  }
  std::printf(
      "restore cuts (cut %s, %llu ops, stride %llu): untouched %d, done %d, resumed %d (%d cut "
      "again)\n",
      std::string(nand::to_string(g_cut)).c_str(), static_cast<unsigned long long>(ops),
      static_cast<unsigned long long>(kStride), untouched, done, resumed, two_deep);
  EXPECT_GT(resumed, 0);
}

BACKUP_POWERLOSS_TEST(CutAtEveryOperationOfRestore) {
  for (auto cut : kCutModes) {
    g_cut = cut;
    restore_sweep();
  }
}

// A record write cut at every operation, also where a lane rolls over to
// its next block (erase + first page): only the newest record may be lost.
BACKUP_POWERLOSS_TEST(TornRecordWriteLosesAtMostTheNewest) {
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

BACKUP_POWERLOSS_TEST(ForcedRestoreFlagSurvivesCuts) {
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
