// The application sync of seed 001 over two UBI volumes on one chip: the
// seed's test methods, and a power cut at every NAND operation of a sync.
#include "quecopen/app_sync.hpp"

#include <cstdio>
#include <map>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include <vmodem/nand/campaign.hpp>
#include <vmodem/nand/chip.hpp>
#include <vmodem/nand/fault.hpp>
#include <vmodem/nand/partition.hpp>
#include <vmodem/nand/storage.hpp>
#include <vmodem/nand/ubi/ubi_device.hpp>
#include <vmodem/nand/ubi/volume_device.hpp>

#include "tier.hpp"

namespace vmodem::sim::quecopen {
namespace {

using Bytes = std::vector<std::uint8_t>;
Bytes text(std::string_view s) {
  return {s.begin(), s.end()};
}

// One partition: UBI, a volume filling it, the file system, its page cache.
struct Side {
  std::unique_ptr<nand::Partition> partition;
  std::unique_ptr<nand::ubi::UbiDevice> ubi;
  std::unique_ptr<nand::ubi::VolumeDevice> volume;
  std::unique_ptr<fs::FileSystem> fs;
  std::unique_ptr<fs::WriteBack> cache;
  AppSide app;
};

// A chip with `system` (blocks 0-15) and `usr_data` (16-31), both UBI, as
// on an EC25: apps at /usrapp/apprun on system, their backup at
// /appbackup in usr_data (the module mounts it at /usrdata).
class TwoVolumes {
 public:
  // The page caches' flusher: a chance of 1 in `flusher_one_in` after each
  // call, drawn from `flusher_seed`.
  explicit TwoVolumes(std::uint64_t flusher_seed = 1, std::uint32_t flusher_one_in = 3)
      : seed_(flusher_seed), one_in_(flusher_one_in) {
    nand::Geometry g;
    g.block_count = 32;
    storage_ = std::move(nand::Storage::create_in_memory(g).value());
    chip_ = std::make_unique<nand::SimulatedChip>(*storage_, nand::ChipConfig{});
    injector_ = std::make_unique<nand::FaultInjector>(*chip_, nullptr, 7);
  }
  void format() {
    for (int i = 0; i < 2; ++i) {
      auto part = nand::Partition::open(*injector_, spec(i)).value();
      auto ubi = std::move(nand::ubi::UbiDevice::attach(*part).value());
      ASSERT_TRUE(ubi->format());
      ASSERT_TRUE(ubi->create_volume(0, i == 0 ? "rootfs" : "usrdata",
                                     nand::ubi::VolumeType::dynamic, ubi->available_pebs()));
      nand::ubi::VolumeDevice volume(*ubi, 0);
      ASSERT_TRUE(fs::FileSystem::format(volume, fs::Config{}));
    }
  }
  // Attaches and mounts both, as the kernel does at boot.
  fs::Status mount() {
    for (int i = 0; i < 2; ++i) {
      Side& side = sides_[i];
      side = Side{};
      auto part = nand::Partition::open(*injector_, spec(i));
      if (!part) return fs::fail(fs::Errc::io_error, part.error().message());
      side.partition = std::move(*part);
      auto ubi = nand::ubi::UbiDevice::attach(*side.partition);
      if (!ubi) {
        const bool cut = ubi.error().code == nand::Errc::power_loss;
        return fs::fail(cut ? fs::Errc::power_loss : fs::Errc::io_error, ubi.error().message());
      }
      side.ubi = std::move(*ubi);
      side.volume = std::make_unique<nand::ubi::VolumeDevice>(*side.ubi, 0);
      auto mounted = fs::FileSystem::mount(*side.volume, fs::Config{});
      if (!mounted) return tl::unexpected(mounted.error());
      side.fs = std::move(*mounted);
      fs::WriteBackConfig config;
      config.flusher_one_in = one_in_;
      config.seed = seed_ + static_cast<std::uint64_t>(i);
      side.cache = std::make_unique<fs::WriteBack>(*side.fs, config, [] { return 0; });
      side.app = {side.fs.get(), side.cache.get(),
                  i == 0 ? "/usrapp/apprun/apps" : "/appbackup/apps",
                  i == 0 ? "/usrapp/apprun/app_ver.txt" : "/appbackup/app_ver.txt"};
    }
    return {};
  }
  void unmount() {
    for (Side& side : sides_)
      side = Side{};
  }
  AppSide& system() { return sides_[0].app; }
  AppSide& backup() { return sides_[1].app; }
  fs::FileSystem& fs(int i) { return *sides_[i].fs; }
  nand::Storage& storage() { return *storage_; }
  nand::SimulatedChip& chip() { return *chip_; }
  nand::FaultInjector& injector() { return *injector_; }

  // Every file under `dir` of side `i`, by path relative to `dir`.
  std::map<std::string, Bytes> tree(int i, const std::string& dir) {
    std::map<std::string, Bytes> out;
    collect(i, dir, "", out);
    return out;
  }

 private:
  static nand::PartitionSpec spec(int i) {
    return {i == 0 ? "system" : "usr_data", static_cast<std::uint32_t>(16 * i), 16};
  }
  void collect(int i, const std::string& dir, const std::string& rel,
               std::map<std::string, Bytes>& out) {
    auto entries = sides_[i].fs->readdir(dir);
    if (!entries) return;
    for (const auto& e : *entries) {
      const std::string path = dir + "/" + e.name;
      if (e.type == fs::FileType::directory) {
        collect(i, path, rel + e.name + "/", out);
      } else {
        out[rel + e.name] = sides_[i].fs->read_file(path).value_or(Bytes{});
      }
    }
  }

  std::uint64_t seed_;
  std::uint32_t one_in_;
  std::unique_ptr<nand::Storage> storage_;
  std::unique_ptr<nand::SimulatedChip> chip_;
  std::unique_ptr<nand::FaultInjector> injector_;
  Side sides_[2];
};

// Installs an application tree and its tag directly (as a developer's push
// or a factory image would), synced.
void install(fs::FileSystem& fs, const std::string& apps, const std::string& tag, int version,
             int files) {
  std::string dir;
  for (std::size_t at = 1; at != std::string::npos;) {
    at = apps.find('/', at + 1);
    dir = apps.substr(0, at);
    (void)fs.mkdir(dir);
  }
  ASSERT_TRUE(fs.mkdir(apps + "/conf").has_value() || true);
  for (int f = 0; f < files; ++f) {
    const std::string name = f == 0 ? "/conf/app.cfg" : "/app" + std::to_string(f) + ".bin";
    Bytes data(1500 + 700 * f, static_cast<std::uint8_t>(version * 16 + f));
    ASSERT_TRUE(fs.write_file(apps + name, data));
  }
  ASSERT_TRUE(fs.write_file(tag, text(std::to_string(version) + "\n")));
}

struct AppSync : ::testing::Test {
  AppSync() {
    rig.format();
    EXPECT_TRUE(rig.mount());
  }
  TwoVolumes rig;
};

TEST_F(AppSync, AnEmptyBackupIsFilledFromSystem) {
  install(rig.fs(0), "/usrapp/apprun/apps", "/usrapp/apprun/app_ver.txt", 3, 3);
  auto report = sync_apps(rig.system(), rig.backup());
  ASSERT_TRUE(report) << report.error().message();
  EXPECT_EQ(report->outcome, SyncOutcome::to_backup);
  EXPECT_EQ(report->system_version, 3);
  EXPECT_EQ(report->backup_version, -1) << "no tag file counts as -1";
  EXPECT_EQ(report->files, 3u);
  ASSERT_TRUE(rig.mount());  // a new boot: only what reached NAND
  EXPECT_EQ(rig.tree(1, "/appbackup/apps"), rig.tree(0, "/usrapp/apprun/apps"));
  EXPECT_EQ(rig.fs(1).read_file("/appbackup/app_ver.txt").value(), text("3\n"));
  auto again = sync_apps(rig.system(), rig.backup());
  EXPECT_EQ(again->outcome, SyncOutcome::in_step);
}

TEST_F(AppSync, AHigherBackupVersionIsCopiedOverSystem) {
  install(rig.fs(0), "/usrapp/apprun/apps", "/usrapp/apprun/app_ver.txt", 3, 3);
  install(rig.fs(1), "/appbackup/apps", "/appbackup/app_ver.txt", 4, 2);
  auto report = sync_apps(rig.system(), rig.backup());
  ASSERT_TRUE(report);
  EXPECT_EQ(report->outcome, SyncOutcome::to_system);
  ASSERT_TRUE(rig.mount());
  const auto system = rig.tree(0, "/usrapp/apprun/apps");
  EXPECT_EQ(system.size(), 2u) << "the old tree is removed, not merged";
  EXPECT_EQ(system, rig.tree(1, "/appbackup/apps"));
}

TEST_F(AppSync, DeletedAppsAndTagOnSystemComeBackFromTheBackup) {
  install(rig.fs(0), "/usrapp/apprun/apps", "/usrapp/apprun/app_ver.txt", 5, 3);
  ASSERT_TRUE(sync_apps(rig.system(), rig.backup()));
  ASSERT_TRUE(rig.mount());
  const auto before = rig.tree(0, "/usrapp/apprun/apps");
  ASSERT_TRUE(rig.fs(0).unlink("/usrapp/apprun/app_ver.txt"));
  ASSERT_TRUE(rig.fs(0).unlink("/usrapp/apprun/apps/app1.bin"));
  auto report = sync_apps(rig.system(), rig.backup());
  ASSERT_TRUE(report);
  EXPECT_EQ(report->outcome, SyncOutcome::to_system);
  ASSERT_TRUE(rig.mount());
  EXPECT_EQ(rig.tree(0, "/usrapp/apprun/apps"), before);
}

TEST_F(AppSync, ATagThatIsNotANumberStopsTheSyncAsTheScriptDoes) {
  install(rig.fs(0), "/usrapp/apprun/apps", "/usrapp/apprun/app_ver.txt", 2, 2);
  ASSERT_TRUE(rig.fs(1).mkdir("/appbackup"));
  ASSERT_TRUE(rig.fs(1).write_file("/appbackup/app_ver.txt", {}));  // a cut emptied it
  auto report = sync_apps(rig.system(), rig.backup());
  ASSERT_TRUE(report);
  EXPECT_EQ(report->outcome, SyncOutcome::unparsable_tag);
  EXPECT_EQ(report->files, 0u);
}

// A sync from system (version 2, three files) over usr_data (version 1, two
// files), cut at every NAND operation; the verdict boots again, runs the
// sync once more uncut, and looks at where the two sides ended.
class SyncCase : public nand::campaign::InjectorCase {
 public:
  SyncCase(TagWrite how, std::uint64_t seed, std::uint32_t flusher_one_in = 3)
      : how_(how), rig_(seed, flusher_one_in) {
    rig_.format();
    EXPECT_TRUE(rig_.mount());
    install(rig_.fs(0), "/usrapp/apprun/apps", "/usrapp/apprun/app_ver.txt", 2, 3);
    install(rig_.fs(1), "/appbackup/apps", "/appbackup/app_ver.txt", 1, 2);
    rig_.unmount();
    rig_.storage().snapshot_begin();
  }
  ~SyncCase() override { rig_.storage().snapshot_end(); }
  nand::FaultInjector& injector() override { return rig_.injector(); }
  void rewind() override {
    rig_.unmount();
    rig_.storage().snapshot_rollback();
    rig_.chip().power_up();
    rig_.injector().clear_rules();
    rig_.injector().reset_operation_count();
  }
  bool act() override {
    if (rig_.mount()) (void)sync_apps(rig_.system(), rig_.backup(), how_);
    rig_.unmount();
    return !rig_.chip().powered();
  }
  nand::campaign::Verdict verify(const nand::campaign::CutPoint&) override {
    rig_.chip().power_up();
    if (auto mounted = rig_.mount(); !mounted)
      return nand::campaign::Verdict::fail("no mount", mounted.error().message());
    auto next_boot = sync_apps(rig_.system(), rig_.backup(), how_);
    if (!next_boot) return nand::campaign::Verdict::fail("sync error", next_boot.error().message());
    if (next_boot->outcome == SyncOutcome::unparsable_tag)
      return nand::campaign::Verdict::pass("stuck: a tag with no number");
    if (auto mounted = rig_.mount(); !mounted)
      return nand::campaign::Verdict::fail("no mount", mounted.error().message());
    const auto system = rig_.tree(0, "/usrapp/apprun/apps");
    const bool tagged =
        rig_.fs(1).read_file("/appbackup/app_ver.txt").value_or(Bytes{}) == text("2\n");
    if (system.size() != 3)
      return nand::campaign::Verdict::fail("system damaged", "system lost application files");
    if (tagged && rig_.tree(1, "/appbackup/apps") != system)
      return nand::campaign::Verdict::fail("tag newer than its tree",
                                           "usr_data says version 2 over an incomplete copy");
    if (!tagged) return nand::campaign::Verdict::fail("diverged", "usr_data is not at version 2");
    return nand::campaign::Verdict::pass("in step at version 2");
  }

 private:
  TagWrite how_;
  TwoVolumes rig_;
};

nand::campaign::Result cut_every_operation(TagWrite how, std::vector<nand::CutMode> modes) {
  SyncCase c(how, 1);
  nand::campaign::Plan plan;
  plan.modes = std::move(modes);
  return nand::campaign::run(c, plan);
}

// The window between copying the tag and the last sync: the tag exists,
// empty, and the script never syncs again.
void expect_reference_outcomes(const nand::campaign::Result& result) {
  EXPECT_EQ(result.failed, 0u) << result.describe();
  EXPECT_GT(result.count("in step at version 2"), 0u) << result.describe();
  EXPECT_GT(result.count("stuck: a tag with no number"), 0u) << result.describe();
}

void expect_atomic_outcomes(const nand::campaign::Result& result) {
  EXPECT_EQ(result.failed, 0u) << result.describe();
  EXPECT_EQ(result.count("in step at version 2"), result.cuts) << result.describe();
}

TEST(AppSyncPowerCut, TheReferenceOrderConvergesExceptAfterACutInsideTheTagWindow) {
  expect_reference_outcomes(cut_every_operation(TagWrite::reference, {nand::CutMode::before}));
}

TEST(AppSyncPowerCut, WritingTheTagAtomicallyAlwaysConverges) {
  expect_atomic_outcomes(cut_every_operation(TagWrite::atomic, {nand::CutMode::before}));
}

// The seed's note 1: copy the tree and the tag, then sync — the flusher may
// write the tag back before some of the tree, and a cut then leaves a
// backup whose tag claims a copy it does not hold; the next boot, seeing
// equal versions, never repairs it. The campaign must find that.
TEST(AppSyncPowerCut, ATagWrittenBeforeTheTreeIsSyncedIsFoundTaggingAnIncompleteBackup) {
  std::uint64_t found = 0;
  std::uint64_t seed = 0;
  while (found == 0 && seed < 20) {
    // A busy flusher (one chance in two after every call) makes an
    // out-of-order write-back likely within a few seeds; any flusher can.
    SyncCase c(TagWrite::unsynced_tree, ++seed, 2);
    nand::campaign::Plan plan;
    plan.modes = {nand::CutMode::before};
    found = nand::campaign::run(c, plan).count("tag newer than its tree");
  }
  EXPECT_GT(found, 0u) << "no flusher seed in 1.." << seed << " left a tag over a partial copy";
  std::printf("flusher seed %llu: %llu cuts leave usr_data tagged over a partial copy\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(found));
}

// torn_unstable (a torn erase whose cells read differently at each boot) is
// reported, not asserted, as in the file-system campaigns: an unmapped LEB
// whose erase was torn can come back at a later attach, as on Linux, and
// the NAND file system (unlike UBIFS) may then find two blocks with one
// sequence number (probe 4).
TEST(AppSyncPowerCutFull, EveryOperationInThreeModes) {
  VMODEM_FULL_TIER_ONLY();
  const std::vector<nand::CutMode> modes{nand::CutMode::before, nand::CutMode::after,
                                         nand::CutMode::torn_partial};
  expect_reference_outcomes(cut_every_operation(TagWrite::reference, modes));
  expect_atomic_outcomes(cut_every_operation(TagWrite::atomic, modes));
  for (const TagWrite how : {TagWrite::reference, TagWrite::atomic})
    std::printf("torn_unstable, %s tag: %s", how == TagWrite::atomic ? "atomic" : "reference",
                cut_every_operation(how, {nand::CutMode::torn_unstable}).describe().c_str());
}

}  // namespace
}  // namespace vmodem::sim::quecopen
