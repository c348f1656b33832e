// Backup/restore round trips, counters, size limits, bad blocks, boot loop.
#include "backup_fixture.hpp"

namespace vmodem::fs::testing {
namespace {

// A spare area of 16 bytes cannot hold the 2 marker bytes and the 24-byte data
// tag: the engine refuses the geometry (its scan used to read past the spare
// buffer, a heap overflow under ASan), and so does the file system.
TEST(BackupGeometry, SpareTooSmallForTagsIsRefusedNotOverrun) {
  nand::Geometry g;
  g.page_size = 512;
  g.spare_size = 16;
  g.pages_per_block = 32;
  g.block_count = 24;
  auto storage = nand::Storage::create_in_memory(g).value();
  nand::SimulatedChip chip(*storage, nand::ChipConfig{});
  auto table =
      nand::PartitionTable::create({{"fs", 0, 12}, {"data", 12, 8}, {"info", 20, 4}}, g).value();
  auto fs_part = nand::Partition::open(chip, table.entries()[0]).value();
  auto data_part = nand::Partition::open(chip, table.entries()[1]).value();
  auto info_part = nand::Partition::open(chip, table.entries()[2]).value();
  auto engine = BackupEngine::open(*fs_part, *data_part, *info_part);
  ASSERT_FALSE(engine);
  EXPECT_EQ(engine.error().code, Errc::unsupported);
  EXPECT_NE(engine.error().message().find("26 spare bytes"), std::string::npos)
      << engine.error().message();
  auto formatted = FileSystem::format(*fs_part, Config{});
  ASSERT_FALSE(formatted);
  EXPECT_EQ(formatted.error().code, Errc::unsupported);

  auto data_problem = BackupEngine::data_geometry_problem(data_part->geometry(), {});
  ASSERT_TRUE(data_problem);
  EXPECT_EQ(data_problem->field, nand::GeometryProblem::Field::spare_size);
  g.spare_size = 26;
  EXPECT_FALSE(BackupEngine::data_geometry_problem(g, {})) << "26 bytes are enough";
  g.block_count = 2;
  ASSERT_TRUE(BackupEngine::data_geometry_problem(g, {}));
  EXPECT_EQ(BackupEngine::data_geometry_problem(g, {})->field,
            nand::GeometryProblem::Field::blocks);
}

// Backup of the factory tree; the FS stays mounted.
struct Backed : ::testing::Test {
  explicit Backed(BackupOptions opts = {}) : rig(std::move(opts)) {}
  void SetUp() override {
    rig.format();
    rig.mount();
    fill_factory(rig);
    rig.open_engine();
    factory = tree_of(*rig.fs);
    ASSERT_TRUE(rig.engine->backup(*rig.fs));
  }
  // A reboot: power off, boot with the engine's decision executed.
  BootDecision reboot() {
    rig.unmount();
    auto& engine = rig.power_cycle();
    EXPECT_TRUE(engine.note_boot_started());
    auto m = rig.try_mount();
    std::optional<Error> err;
    if (!m) err = m.error();
    m = {};
    auto decision = engine.at_boot(err);
    if (decision.action == BootAction::restore) {
      auto s = engine.restore(decision.probe);
      EXPECT_TRUE(s) << s.error().message();
    }
    rig.mount();
    EXPECT_TRUE(engine.note_boot_completed());
    return decision;
  }
  BackupRig rig;
  Tree factory;
};

TEST_F(Backed, InfoAfterFirstBackup) {
  auto info = rig.engine->info();
  EXPECT_TRUE(info.valid);
  EXPECT_EQ(info.backup_count, 1u);
  EXPECT_EQ(info.restore_count, 0u);
  EXPECT_EQ(info.page_count, rig.fs->statfs()->pages_in_use);
  EXPECT_EQ(info.files, 4u);
  EXPECT_EQ(info.image_blocks, 1u);
  EXPECT_EQ(info.data_bad_blocks, 0u);
  EXPECT_EQ(info.info_bad_blocks, 0u);
}

// Auxiliary test 1 of the document: a file created after the backup is gone.
TEST_F(Backed, AuxTest1FileCreatedAfterBackupDisappears) {
  rig.put("/test.txt", text("hello"));
  ASSERT_TRUE(rig.engine->schedule_restore());
  auto d = reboot();
  EXPECT_EQ(d.action, BootAction::restore);
  EXPECT_EQ(d.probe, kForcedRestore);
  EXPECT_FALSE(rig.fs->stat("/test.txt"));
  EXPECT_EQ(tree_of(*rig.fs), factory);
  auto info = rig.engine->info();
  EXPECT_EQ(info.restore_count, 1u);
  EXPECT_FALSE(info.restore_pending);
  EXPECT_EQ(info.probe_counts, (std::array<std::uint32_t, 10>{}));
  // The next boot does nothing.
  EXPECT_EQ(reboot().action, BootAction::none);
  EXPECT_EQ(rig.engine->info().restore_count, 1u);
}

// Auxiliary test 2: a backed-up file deleted afterwards returns.
TEST_F(Backed, AuxTest2DeletedFileReturns) {
  rig.put("/test.txt", text("keep me"));
  ASSERT_TRUE(rig.engine->backup(*rig.fs));
  const Tree backed = tree_of(*rig.fs);
  ASSERT_TRUE(rig.fs->unlink("/test.txt"));
  ASSERT_TRUE(rig.fs->unlink("/nv/item_files/rf_cal"));
  ASSERT_TRUE(rig.engine->schedule_restore());
  reboot();
  EXPECT_EQ(tree_of(*rig.fs), backed);
  EXPECT_EQ(rig.engine->info().backup_count, 2u);
  EXPECT_TRUE(FileSystem::fsck(*rig.fs_part, {}).ok());
}

TEST_F(Backed, ProbeRestoresCountTheirOwnCounterAndSurviveReopen) {
  rig.unmount();
  for (int probe = 1; probe <= 10; ++probe)
    for (int k = 0; k < probe % 3 + 1; ++k)
      ASSERT_TRUE(rig.engine->restore(probe));
  auto& engine = rig.power_cycle();
  auto info = engine.info();
  std::uint32_t total = 0;
  for (int probe = 1; probe <= 10; ++probe) {
    EXPECT_EQ(info.probe_counts[probe - 1], static_cast<std::uint32_t>(probe % 3 + 1));
    total += info.probe_counts[probe - 1];
  }
  EXPECT_EQ(info.restore_count, total);
  EXPECT_EQ(info.backup_count, 1u);
  EXPECT_EQ(rig.mounted_tree(), factory);
}

TEST_F(Backed, DamagedPartitionIsRestoredAtBootWithItsProbe) {
  rig.put("/later", text("x"));
  rig.unmount();
  // Wipe the partition: no superblock, the mount fails with a probe 1-2 check.
  for (std::uint32_t b = 0; b < rig.fs_part->geometry().block_count; ++b)
    ASSERT_TRUE(rig.fs_part->erase(b));
  auto d = reboot();
  ASSERT_EQ(d.action, BootAction::restore);
  EXPECT_GE(d.probe, 1);
  EXPECT_LE(d.probe, 9);
  EXPECT_EQ(tree_of(*rig.fs), factory);
  EXPECT_EQ(rig.engine->info().probe_counts[d.probe - 1], 1u);
}

TEST_F(Backed, ManyBackupsRotateAndCountErases) {
  const auto erases_before = rig.storage->counters().erases;
  for (int i = 0; i < 25; ++i) {
    rig.put("/n", bytes(100 + i, i));
    ASSERT_TRUE(rig.engine->backup(*rig.fs)) << i;
  }
  EXPECT_EQ(rig.engine->info().backup_count, 26u);
  EXPECT_GE(rig.storage->counters().erases - erases_before, 25u);
  const Tree last = tree_of(*rig.fs);
  rig.unmount();
  ASSERT_TRUE(rig.power_cycle().restore(0));
  EXPECT_EQ(rig.mounted_tree(), last);
}

TEST_F(Backed, TooLargeBackupIsRefusedAndOldStays) {
  // 1.5 MB of incompressible data cannot fit 8 usable blocks (1 MB).
  rig.put("/big", bytes(1500000, 9));
  const auto before = rig.engine->info();
  auto s = rig.engine->backup(*rig.fs);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::no_space);
  EXPECT_EQ(rig.engine->info().generation, before.generation);  // no record written
  rig.unmount();
  auto& engine = rig.power_cycle();
  EXPECT_TRUE(engine.info().valid);
  ASSERT_TRUE(engine.restore(0));
  EXPECT_EQ(rig.mounted_tree(), factory);
}

TEST_F(Backed, LargeCompressibleFileSystemFits) {
  // ~3 MB of live data in a 4 MB partition, compressible like NV items.
  std::vector<std::uint8_t> text;
  for (int i = 0; text.size() < 700000; ++i) {
    auto line = "nv_item " + std::to_string(i % 977) + " = default;\n";
    text.insert(text.end(), line.begin(), line.end());
  }
  for (int f = 0; f < 4; ++f)
    rig.put("/cfg" + std::to_string(f), text);
  ASSERT_TRUE(rig.engine->backup(*rig.fs));
  const Tree backed = tree_of(*rig.fs);
  EXPECT_GT(rig.engine->info().page_count, 1000u);
  rig.unmount();
  ASSERT_TRUE(rig.power_cycle().restore(0));
  EXPECT_EQ(rig.mounted_tree(), backed);
}

TEST_F(Backed, BootLoopTriggersProbe10) {
  rig.unmount();
  const auto threshold = rig.options.boot_loop_threshold;
  for (std::uint32_t i = 0; i < threshold; ++i) {
    auto& engine = rig.power_cycle();
    ASSERT_TRUE(engine.note_boot_started());
    EXPECT_EQ(engine.at_boot(std::nullopt).action, BootAction::none);
    // ... and the boot never reaches RDY.
  }
  auto& engine = rig.power_cycle();
  ASSERT_TRUE(engine.note_boot_started());
  auto d = engine.at_boot(std::nullopt);
  ASSERT_EQ(d.action, BootAction::restore);
  EXPECT_EQ(d.probe, kBootLoopProbe);
  ASSERT_TRUE(engine.restore(d.probe));
  EXPECT_EQ(engine.info().probe_counts[9], 1u);
  EXPECT_EQ(engine.info().boot_attempts, 0u);
  // A completed boot resets the counter.
  ASSERT_TRUE(engine.note_boot_started());
  ASSERT_TRUE(engine.note_boot_completed());
  EXPECT_EQ(rig.power_cycle().info().boot_attempts, 0u);
}

TEST(BackupNoBackup, BootWithoutBackupAsksForFactoryContent) {
  BackupRig rig;
  rig.format();
  auto& engine = rig.open_engine();
  EXPECT_FALSE(engine.info().valid);
  EXPECT_EQ(engine.schedule_restore().error().code, Errc::not_found);
  EXPECT_EQ(engine.restore(0).error().code, Errc::not_found);
  for (std::uint32_t b = 0; b < rig.fs_part->geometry().block_count; ++b)
    ASSERT_TRUE(rig.fs_part->erase(b));
  auto m = rig.try_mount();
  ASSERT_FALSE(m);
  EXPECT_EQ(engine.at_boot(m.error()).action, BootAction::no_backup);
}

TEST(BackupSafeMode, RefusesWhenItCannotDoubleBuffer) {
  BackupOptions opts;
  opts.mode = PowerLossMode::safe;
  BackupRig rig(opts);
  rig.format();
  rig.mount();
  rig.put("/big", bytes(700000, 3));  // 6 blocks: a second copy does not fit beside
  auto& engine = rig.open_engine();
  ASSERT_TRUE(engine.backup(*rig.fs));  // no valid backup yet: fits
  const Tree backed = tree_of(*rig.fs);
  rig.put("/more", text("x"));
  auto s = engine.backup(*rig.fs);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::no_space);
  EXPECT_TRUE(engine.info().valid);
  EXPECT_EQ(engine.info().backup_count, 1u);
  rig.unmount();
  ASSERT_TRUE(rig.power_cycle().restore(0));
  EXPECT_EQ(rig.mounted_tree(), backed);
}

TEST(BackupBadBlocks, FactoryBadBlocksAreSkippedAndCounted) {
  using R = BackupRig;
  // Two bad in the data partition, one in the info partition, one in the FS.
  BackupRig rig({}, {3, R::kFsBlocks + 0, R::kFsBlocks + 5, R::kFsBlocks + R::kDataBlocks + 1});
  rig.format();
  rig.mount();
  fill_factory(rig);
  rig.put("/bulk", bytes(300000, 5));  // 3 data blocks
  const Tree backed = tree_of(*rig.fs);
  auto& engine = rig.open_engine();
  ASSERT_TRUE(engine.backup(*rig.fs));
  auto info = engine.info();
  EXPECT_EQ(info.data_bad_blocks, 2u);
  EXPECT_EQ(info.info_bad_blocks, 1u);
  BackupInfo ap;
  ap.data_bad_blocks = 1;
  auto report = bad_block_report(info, ap);
  EXPECT_EQ(report.total(), 4u);
  rig.unmount();
  ASSERT_TRUE(rig.power_cycle().restore(3));
  EXPECT_EQ(rig.mounted_tree(), backed);
  EXPECT_EQ(rig.engine->info().data_bad_blocks, 2u);
}

TEST(BackupBadBlocks, GrownBadBlocksAreRetiredAndCounted) {
  BackupRig rig;
  rig.format();
  rig.mount();
  fill_factory(rig);
  rig.put("/bulk", bytes(200000, 6));  // 2 data blocks
  const Tree backed = tree_of(*rig.fs);
  auto& engine = rig.open_engine();
  // A program in the data partition and an erase in the info partition fail.
  nand::FaultRule data_fail;
  data_fail.ops = 1 << static_cast<int>(nand::OpKind::program);
  data_fail.partition = "efs_backup";
  data_fail.n = 70;  // second image block
  data_fail.effect = nand::FaultEffect::program_fail;
  ASSERT_TRUE(rig.injector->add_rule(data_fail));
  nand::FaultRule info_fail;
  info_fail.ops = 1 << static_cast<int>(nand::OpKind::erase);
  info_fail.partition = "efs_info";
  info_fail.n = 1;
  info_fail.effect = nand::FaultEffect::erase_fail;
  ASSERT_TRUE(rig.injector->add_rule(info_fail));
  ASSERT_TRUE(engine.backup(*rig.fs));
  EXPECT_EQ(engine.info().data_bad_blocks, 1u);
  EXPECT_EQ(engine.info().info_bad_blocks, 1u);
  rig.unmount();
  auto& again = rig.power_cycle();
  EXPECT_EQ(again.info().data_bad_blocks, 1u);
  EXPECT_EQ(again.info().info_bad_blocks, 1u);
  EXPECT_TRUE(again.info().valid);
  ASSERT_TRUE(again.restore(0));
  EXPECT_EQ(rig.mounted_tree(), backed);
}

TEST(BackupRecords, SurviveManyWritesAcrossBlockRollover) {
  BackupRig rig;
  rig.format();
  auto* engine = &rig.open_engine();
  // 64 pages per block, two per lane: 300 records roll each lane over twice.
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(engine->note_boot_started());
    if (i % 50 == 49) engine = &rig.power_cycle();
  }
  EXPECT_EQ(rig.power_cycle().info().boot_attempts, 300u);
}

}  // namespace
}  // namespace vmodem::fs::testing
