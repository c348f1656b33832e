// The page-cache model (WriteBack): what reaches NAND when, and — under a
// power cut at every NAND operation, on a UBI volume as on an EC2x module —
// why an application backup must copy, sync, then write its tag file.
#include <cstdio>
#include <string>

#include <gtest/gtest.h>

#include <vmodem/fs/write_back.hpp>
#include <vmodem/nand/campaign.hpp>

#include "fs_fixture.hpp"
#include "powerloss.hpp"

namespace vmodem::fs::testing {
namespace {

struct WriteBackTest : ::testing::Test {
  WriteBackTest() : rig(24) {
    rig.format();
    rig.mount();
  }
  WriteBack cache(WriteBackConfig config = {}) {
    return WriteBack(*rig.fs, config, [this] { return now_ms; });
  }
  // What a power-on after a cut would find (the cache is RAM: gone).
  Result<std::vector<std::uint8_t>> on_nand(const std::string& path) {
    return rig.remount().read_file(path);
  }
  Rig rig;
  std::int64_t now_ms = 0;
};

TEST_F(WriteBackTest, AFileIsInRamUntilSyncAndEmptyOnNandBefore) {
  WriteBack wb = cache();
  ASSERT_TRUE(wb.write_file("/app", bytes(5000, 1)));
  EXPECT_EQ(wb.read_file("/app").value(), bytes(5000, 1));
  EXPECT_TRUE(wb.dirty("/app"));
  EXPECT_TRUE(rig.fs->read_file("/app").value().empty()) << "created at once, data still in RAM";
  ASSERT_TRUE(wb.sync());
  EXPECT_FALSE(wb.dirty("app"));
  EXPECT_EQ(on_nand("/app").value(), bytes(5000, 1));
}

TEST_F(WriteBackTest, AnExistingFileKeepsItsOldContentOnNandUntilWrittenBack) {
  ASSERT_TRUE(rig.fs->write_file("/cfg", text("old")));
  WriteBack wb = cache();
  ASSERT_TRUE(wb.write_file("/cfg", text("new")));
  ASSERT_TRUE(wb.write_file("/other", text("x")));
  ASSERT_TRUE(wb.fsync("//other/"));  // any spelling of the path
  EXPECT_EQ(rig.fs->read_file("/cfg").value(), text("old"));
  EXPECT_EQ(rig.fs->read_file("/other").value(), text("x"));
  ASSERT_TRUE(wb.fsync("/cfg"));
  EXPECT_EQ(on_nand("/cfg").value(), text("new"));
}

TEST_F(WriteBackTest, RenameCarriesCachedDataAndUnlinkDropsIt) {
  WriteBack wb = cache();
  ASSERT_TRUE(wb.mkdir("/tmp"));
  ASSERT_TRUE(wb.write_file("/tmp/a", text("a")));
  ASSERT_TRUE(wb.write_file("/gone", text("g")));
  ASSERT_TRUE(wb.rename("/tmp", "/apps"));  // a directory: what is under it moves
  EXPECT_TRUE(wb.dirty("/apps/a"));
  EXPECT_EQ(wb.read_file("/apps/a").value(), text("a"));
  ASSERT_TRUE(wb.unlink("/gone"));
  EXPECT_EQ(wb.dirty_files(), 1u);
  ASSERT_TRUE(wb.sync());
  EXPECT_EQ(on_nand("/apps/a").value(), text("a"));
}

TEST_F(WriteBackTest, TheFlusherWritesBackExpiredFilesAndRelievesPressure) {
  WriteBackConfig config;
  config.dirty_limit_bytes = 10'000;
  WriteBack wb = cache(config);
  ASSERT_TRUE(wb.write_file("/first", bytes(4000, 1)));
  now_ms = 20'000;
  ASSERT_TRUE(wb.write_file("/second", bytes(4000, 2)));
  now_ms = 31'000;
  ASSERT_TRUE(wb.tick());
  EXPECT_FALSE(wb.dirty("/first")) << "dirty 31 s";
  EXPECT_TRUE(wb.dirty("/second")) << "dirty 11 s";
  EXPECT_EQ(wb.counters().by_expiry, 1u);
  ASSERT_TRUE(wb.write_file("/third", bytes(7000, 3)));  // 11,000 dirty bytes
  EXPECT_FALSE(wb.dirty("/second")) << "the oldest goes first under pressure";
  EXPECT_TRUE(wb.dirty("/third"));
  EXPECT_EQ(wb.counters().by_pressure, 1u);
}

TEST_F(WriteBackTest, TheRandomFlusherIsReproducibleFromItsSeed) {
  auto run = [&](std::uint64_t seed) {
    WriteBackConfig config;
    config.flusher_one_in = 3;
    config.seed = seed;
    WriteBack wb = cache(config);
    std::string order;
    for (int i = 0; i < 12; ++i) {
      const std::string path = "/f" + std::to_string(i) + "-" + std::to_string(seed);
      EXPECT_TRUE(wb.write_file(path, text("x")));
      order += wb.dirty(path) ? '.' : 'w';
    }
    return order + " " + std::to_string(wb.counters().by_flusher);
  };
  EXPECT_EQ(run(7), run(7));
  EXPECT_NE(run(7), run(8));
}

// An application backup copied into usr_data, as the seed's script does it:
// three application files, then the version tag. With `syncs`, the files
// are synced before the tag is written and the tag after; without, a
// flusher (one chance in two per call) writes back whatever it picks.
class AppBackupCase : public RigCase {
 public:
  AppBackupCase(bool syncs, std::uint64_t seed)
      : RigCase(Rig(16, Config{}, nand::ChipConfig{}, 64, Medium::ubi)),
        syncs_(syncs),
        seed_(seed) {
    rig_.format();
    FileSystem& fs = rig_.mount();
    EXPECT_TRUE(fs.mkdir("/appbackup"));
    EXPECT_TRUE(fs.write_file("/appbackup/app_ver.txt", text("1\n")));
    for (int i = 0; i < 3; ++i) {
      EXPECT_TRUE(fs.write_file(file(i), bytes(3000, 100 + i)));
    }
    start();
  }
  bool act() override {
    auto fs = rig_.try_mount();
    if (!fs) return fs.error().code == Errc::power_loss;
    WriteBackConfig config;
    config.flusher_one_in = syncs_ ? 0 : 2;
    config.seed = seed_;
    WriteBack wb(**fs, config, [] { return std::int64_t{0}; });
    bool ok = true;
    for (int i = 0; i < 3 && ok; ++i)
      ok = wb.write_file(file(i), bytes(3000, 200 + i)).has_value();
    if (ok && syncs_) ok = wb.sync().has_value();
    if (ok) ok = wb.write_file("/appbackup/app_ver.txt", text("2\n")).has_value();
    if (ok) (void)wb.sync();
    return !rig_.chip->powered();
  }
  nand::campaign::Verdict verify(const nand::campaign::CutPoint&) override {
    rig_.chip->power_up();
    auto fs = rig_.try_mount();
    if (!fs) return nand::campaign::Verdict::fail("no mount", fs.error().message());
    const bool tagged =
        (*fs)->read_file("/appbackup/app_ver.txt").value_or(text("")) == text("2\n");
    int fresh = 0;
    for (int i = 0; i < 3; ++i)
      fresh += (*fs)->read_file(file(i)).value_or(text("")) == bytes(3000, 200 + i) ? 1 : 0;
    if (tagged && fresh < 3) {
      return nand::campaign::Verdict::fail(
          "tag before files", "version 2 tagged, " + std::to_string(fresh) + " of 3 files new");
    }
    return nand::campaign::Verdict::pass(tagged ? "new, tagged" : "old tag");
  }

 private:
  static std::string file(int i) { return "/appbackup/app" + std::to_string(i) + ".bin"; }
  bool syncs_;
  std::uint64_t seed_;
};

TEST(WriteBackPowerCut, CopySyncThenTagNeverTagsAnIncompleteCopy) {
  AppBackupCase c(true, 1);
  nand::campaign::Plan plan;
  plan.modes = {nand::CutMode::before, nand::CutMode::after, nand::CutMode::torn_partial};
  const auto result = nand::campaign::run(c, plan);
  EXPECT_EQ(result.failed, 0u) << result.describe();
  EXPECT_GT(result.count("new, tagged"), 0u) << result.describe();
  EXPECT_GT(result.count("old tag"), 0u) << result.describe();
}

TEST(WriteBackPowerCut, WithoutSyncTheWriteBackOrderCanTagAnIncompleteCopy) {
  // The hazard the seed's note 1 warns of: some seed's flusher writes the
  // tag back before a file, and a cut in between leaves a tagged, partial
  // copy that the next boot trusts.
  std::uint64_t hazards = 0;
  std::uint64_t seed = 0;
  while (hazards == 0 && seed < 40) {
    AppBackupCase c(false, ++seed);
    nand::campaign::Plan plan;
    plan.modes = {nand::CutMode::after};
    hazards = nand::campaign::run(c, plan).count("tag before files");
  }
  EXPECT_GT(hazards, 0u) << "no flusher seed in 1.." << seed << " wrote the tag back first";
  std::printf("flusher seed %llu: %llu cuts leave the tag on a partial copy\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(hazards));
}

}  // namespace
}  // namespace vmodem::fs::testing
