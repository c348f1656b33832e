// Power cuts during QuecPython's application update (quecpython/app_update.hpp),
// through the one campaign engine (nand/campaign.hpp): an application
// package (three files changed, one added, one removed) is staged in /usr,
// and the boot that applies it is cut at a NAND operation of its guardians'
// hook (the apply, then the checksum guardian). The next boot must end with
// /usr exactly as an uncut boot leaves it (every file new, /usr/checksum.json
// agreeing, the unlisted file untouched, no package or journal left) and
// without a single file restored from /bak.
//
// The journal matters: with the profile's fota.app_journal off (the unsafe
// reference) the same campaign must find the cut where the guardian puts
// the shipped files back over the update.
//
// A larger update (27 files rewritten, one added, one removed) in a /usr the
// user's data fills but 160 KB makes the file system collect garbage under
// the apply (about 3,600 operations).
//
// Quick tier: every 3rd operation (the larger update: a seeded sample of 12,
// VMODEM_TEST_SEED replays), one cut mode; full tier
// (Full/AppUpdateCampaign.*): every operation in four cut modes (the larger
// update: 200 per mode).
#include <algorithm>
#include <cstdio>

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <vmodem/fota/app_package.hpp>
#include <vmodem/nand/campaign.hpp>

#include "qpy_rig.hpp"
#include "quecpython/app_update.hpp"
#include "quecpython/guardian.hpp"
#include "temp_dir.hpp"
#include "test_seed.hpp"
#include "tier.hpp"

namespace vmodem::sim::testing {
namespace {

namespace qp = quecpython;
namespace campaign = nand::campaign;

const std::vector<AppFile> kOldApp = {
    {"/main.py", "import utime\nwhile True:\n    utime.sleep(1)\n"},
    {"/apn_cfg.json", R"({"apn": "iot.example", "user": "", "password": ""})"},
    {"/lib/util.py", std::string(5000, 'u')},  // three pages
    {"/system_config.json", R"({"replFlag": 0})"},
};

const std::vector<AppFile> kNew = {
    {"/main.py", "import utime\nwhile True:\n    print('v2')\n    utime.sleep(2)\n"},
    {"/apn_cfg.json", R"({"apn": "iot.example.v2", "user": "", "password": ""})"},
    {"/lib/util.py", std::string(2500, 'u') + "def v2(): pass\n" + std::string(2600, 'w')},
    {"/lib/added.py", "def added():\n    return 2\n"},
};

// A larger update: 24 files of up to 4.5 KB, each rewritten, so the apply
// runs hundreds of operations and the file system collects garbage.
std::vector<AppFile> many(char fill) {
  std::vector<AppFile> files = kOldApp;
  for (int i = 0; i < 24; ++i) {
    files.push_back({"/app/mod" + std::to_string(i) + ".py",
                     std::string(static_cast<std::size_t>(300 + 700 * (i % 7)),
                                 static_cast<char>(fill + i % 20))});
  }
  return files;
}

constexpr const char* kRestoredOverUpdate = "old files restored over the update";

std::vector<fota::AppFile> package_files(const std::vector<AppFile>& app) {
  std::vector<fota::AppFile> out;
  out.reserve(app.size());
  for (const AppFile& file : app)
    out.push_back({qp::name_of(file.path), {file.content.begin(), file.content.end()}});
  return out;
}

struct UpdateCut final : BootCut {
  std::vector<AppFile> old_app = kOldApp, new_app = kNew;
  fs::FsCounters uncut{};  // /usr's NAND work in the uncut boot

  campaign::Verdict verify(const campaign::CutPoint&) override {
    if (auto failed = boot_after_cut()) return *failed;
    if (rig->files_restored() != 0) {
      std::string detail = "restored from /bak:";
      for (const auto& event : rig->restored_events())
        detail += " " + event.value("path", std::string());
      return campaign::Verdict::fail(kRestoredOverUpdate, detail);
    }
    if (auto failed = tree_differs()) return *failed;
    auto update = qp::apply_staged_update(rig->usr(), &rig->bak(), {rig->profile().name, true});
    auto again = qp::restore_from_backup(rig->usr(), rig->bak());
    if (!update || update->state != qp::AppUpdateState::none || !again || !again->restored.empty())
      return campaign::Verdict::fail("not settled", "a further run found work");
    const auto& events = rig->app_events();
    return campaign::Verdict::pass("next boot: " + (events.empty()
                                                        ? std::string("nothing to do")
                                                        : events.back().value("state", "")));
  }

  tl::expected<void, std::string> prepare(const std::filesystem::path& app, bool journal,
                                          std::uint64_t leave_free = 0) {
    auto made = QpyRig::create(app, /*backup=*/true, /*enabled=*/true);
    if (!made) return tl::unexpected(made.error());
    rig = std::move(*made);
    rig->set_app_journal(journal);
    if (rig->power_on() != Booted::up) return tl::unexpected(std::string("first boot failed"));
    const std::string notes = "the user's own, never listed";
    const std::vector<std::uint8_t> note_bytes(notes.begin(), notes.end());
    if (!rig->usr().write_file("/notes.txt", note_bytes))
      return tl::unexpected(std::string("writing /notes.txt"));
    if (leave_free != 0) {
      // The user's own data fills /usr but `leave_free` bytes: the apply
      // then needs the garbage collector.
      const std::vector<std::uint8_t> chunk(64 * 1024, 0x5a);
      for (int i = 0;; ++i) {
        auto space = rig->usr().statfs();
        if (!space) return tl::unexpected(std::string("statfs"));
        if (space->free_bytes < leave_free + chunk.size()) break;
        if (!rig->usr().write_file("/fill" + std::to_string(i), chunk)) break;
      }
    }
    auto package =
        fota::make_app_package(rig->profile().name, package_files(old_app), package_files(new_app),
                               {.thorough = false, .verify = true});
    if (!package) return tl::unexpected(package.error().message);
    auto staged =
        qp::stage_app_update(rig->usr(), *package, {.model = rig->profile().name, .journal = true});
    if (!staged || staged->refused) return tl::unexpected(std::string("staging refused"));
    rig->power_off();
    rig->flash().lock().storage().snapshot_begin();
    // The uncut boot: what every cut must end in.
    rewind();
    if (rig->power_on() != Booted::up) return tl::unexpected(std::string("uncut boot failed"));
    if (rig->app_events().empty() || rig->app_events().back().value("state", "") != "applied")
      return tl::unexpected(std::string("the uncut boot did not apply the update"));
    uncut = rig->usr().counters();
    if (!record(rig->usr(), "/", final_tree)) return tl::unexpected(std::string("reading /usr"));
    for (const AppFile& file : new_app) {
      auto data = rig->usr().read_file(file.path);
      if (!data || std::string(data->begin(), data->end()) != file.content)
        return tl::unexpected(file.path + " is not new after the uncut boot");
    }
    auto list = qp::parse_checksum_list(*rig->usr().read_file("/checksum.json"));
    if (!list || list->size() != old_app.size() - 1) {
      return tl::unexpected(
          std::string("checksum.json should list every file but the removed one"));
    }
    for (const auto& entry : *list) {
      auto crc = qp::file_crc32(rig->usr(), *qp::fs_path_of(entry.name));
      if (!crc || *crc != entry.crc32)
        return tl::unexpected(entry.name + " disagrees with checksum.json after the uncut boot");
    }
    return {};
  }
};

// A cut while the application stages the package (`ctl app-fota`,
// AT+QFOTADL): the next boot finds it staged whole and applies it, or finds
// nothing staged and leaves the old files — never a torn package applied,
// a temporary file left behind, or a file restored from /bak.
struct StageCut final : BootCut {
  std::vector<std::uint8_t> package;
  Tree old_tree;  // /usr after a boot with nothing staged; final_tree: staged and applied
  std::uint64_t boot_ops = 0;

  // The boot, then the staging: cuts are planned after boot_ops.
  bool act() override {
    if (rig->power_on() != Booted::up) return true;
    boot_ops = injector().operation_count();
    auto staged =
        qp::stage_app_update(rig->usr(), package, {.model = rig->profile().name, .journal = true});
    return !staged && staged.error().code == fs::Errc::power_loss;
  }
  campaign::Verdict verify(const campaign::CutPoint&) override {
    if (auto failed = boot_after_cut()) return *failed;
    if (rig->files_restored() != 0)
      return campaign::Verdict::fail(kRestoredOverUpdate, "a file came back from /bak");
    Tree tree;
    if (!record(rig->usr(), "/", tree))
      return campaign::Verdict::fail("unreadable", "/usr could not be read");
    if (tree == old_tree) return campaign::Verdict::pass("not staged: old files");
    if (tree == final_tree) return campaign::Verdict::pass("staged: applied at the next boot");
    std::string detail = "/usr is neither the old files nor the update:";
    for (const auto& [path, data] : tree)
      detail += " " + path + "(" + std::to_string(data.size()) + ")";
    return campaign::Verdict::fail("torn", detail);
  }

  tl::expected<void, std::string> prepare(const std::filesystem::path& app) {
    auto made = QpyRig::create(app, /*backup=*/true, /*enabled=*/true);
    if (!made) return tl::unexpected(made.error());
    rig = std::move(*made);
    if (rig->power_on() != Booted::up) return tl::unexpected(std::string("first boot failed"));
    auto made_package =
        fota::make_app_package(rig->profile().name, package_files(kOldApp), package_files(kNew),
                               {.thorough = false, .verify = true});
    if (!made_package) return tl::unexpected(made_package.error().message);
    package = std::move(*made_package);
    rig->power_off();
    rig->flash().lock().storage().snapshot_begin();
    // Nothing staged: the old files.
    rewind();
    if (rig->power_on() != Booted::up || !record(rig->usr(), "/", old_tree))
      return tl::unexpected(std::string("the boot without a package failed"));
    // Staged uncut, then the boot that applies it.
    rewind();
    if (act()) return tl::unexpected(std::string("the uncut staging lost power"));
    rig->power_off();
    rig->restore_power();
    if (rig->power_on() != Booted::up || !record(rig->usr(), "/", final_tree))
      return tl::unexpected(std::string("the boot after staging failed"));
    if (final_tree == old_tree) return tl::unexpected(std::string("the update changed nothing"));
    return {};
  }
};

struct UpdateTier {
  std::string name;
  std::uint32_t stride;  // 1 = every operation of the boot's hook
  std::uint32_t sample;  // the larger update: a seeded sample per mode
  std::vector<nand::CutMode> modes;
};
void PrintTo(const UpdateTier& tier, std::ostream* os) {
  *os << tier.name;
}
const UpdateTier kQuickUpdate{"Quick", 3, 12, {nand::CutMode::torn_random}};
const UpdateTier kFullUpdate{"Full",
                             1,
                             200,
                             {nand::CutMode::torn_partial, nand::CutMode::torn_unstable,
                              nand::CutMode::after, nand::CutMode::before}};

class AppUpdateCampaign : public ::testing::TestWithParam<UpdateTier> {
 protected:
  void SetUp() override {
    if (GetParam().name == kFullUpdate.name) VMODEM_FULL_TIER_ONLY();
    spdlog::set_level(spdlog::level::off);  // hundreds of boots
  }
  void TearDown() override { spdlog::set_level(spdlog::level::info); }

  campaign::Result run(bool journal, bool larger = false) {
    vmodem::testing::TempDir app;
    UpdateCut c;
    if (larger) {
      c.old_app = many('a');
      c.new_app = many('A');
      c.new_app.erase(c.new_app.begin() + 3);  // /system_config.json, as kNew
      c.new_app.push_back(kNew[3]);            // /lib/added.py
      for (std::size_t i = 0; i < 3; ++i)
        c.new_app[i] = kNew[i];
    }
    write_app(app.path(), c.old_app);
    auto prepared = c.prepare(app.path(), journal, larger ? 160 * 1024 : 0);
    EXPECT_TRUE(prepared) << prepared.error();
    if (!prepared) return {};
    // Cuts only in the hook: the apply and the guardian after it.
    c.rewind();
    EXPECT_FALSE(c.act());
    campaign::Plan plan;
    plan.modes = GetParam().modes;
    plan.stride = GetParam().stride;
    if (larger) {
      plan.sample = GetParam().sample;
      plan.stride = 1;
      plan.seed = vmodem::testing::test_seed(17);
    }
    plan.first = c.rig->hook_started_at() + 1;
    campaign::Result r = campaign::run(c, plan);
    uncut_ = c.uncut;
    std::printf(
        "app update (journal %s): %llu NAND operations (hook from %llu; %llu pages "
        "written, %llu blocks erased, %llu pages copied by GC), %llu cuts\n%s",
        journal ? "on" : "off", static_cast<unsigned long long>(r.operations),
        static_cast<unsigned long long>(plan.first),
        static_cast<unsigned long long>(c.uncut.pages_written),
        static_cast<unsigned long long>(c.uncut.blocks_erased),
        static_cast<unsigned long long>(c.uncut.gc_pages_copied),
        static_cast<unsigned long long>(r.cuts), r.describe().c_str());
    return r;
  }

  fs::FsCounters uncut_{};  // /usr's NAND work in the last run's uncut boot
};

TEST_P(AppUpdateCampaign, EveryCutEndsWhollyNewAndRestoresNothing) {
  const campaign::Result r = run(/*journal=*/true);
  EXPECT_EQ(r.failed, 0u) << r.describe();
  EXPECT_GT(r.cuts, 10u);
  // Cuts before the journal leave the apply to the next boot whole; cuts
  // after it leave a part, which the journal finishes.
  EXPECT_GT(r.count("next boot: applied"), 0u) << r.describe();
  EXPECT_GT(r.count("next boot: resumed"), 0u) << r.describe();
}

TEST_P(AppUpdateCampaign, ALargerUpdateWithGarbageCollectionEndsWhollyNew) {
  const campaign::Result r = run(/*journal=*/true, /*larger=*/true);
  EXPECT_GT(uncut_.gc_pages_copied, 0u) << "the apply should need the garbage collector";
  EXPECT_EQ(r.failed, 0u) << r.describe();
  EXPECT_GE(r.cuts, 12u);
  EXPECT_GT(r.count("next boot: resumed"), 0u) << r.describe();
}

TEST_P(AppUpdateCampaign, WithoutTheJournalTheGuardianRestoresOldFilesOverTheUpdate) {
  const campaign::Result r = run(/*journal=*/false);
  // The campaign finds the cut between the files and checksum.json: the
  // next boot refuses the half-applied package and the guardian restores
  // the shipped files over the new ones.
  EXPECT_GT(r.count(kRestoredOverUpdate), 0u) << r.describe();
  EXPECT_GT(r.failed, 0u);
}

TEST_P(AppUpdateCampaign, ACutWhileStagingLeavesTheOldFilesOrTheWholeUpdate) {
  vmodem::testing::TempDir app;
  write_app(app.path(), kOldApp);
  StageCut c;
  auto prepared = c.prepare(app.path());
  ASSERT_TRUE(prepared) << prepared.error();
  c.rewind();
  ASSERT_FALSE(c.act());
  campaign::Plan plan;
  plan.modes = GetParam().modes;
  // A torn last operation (the rename's commit) leaves nothing staged; a
  // cut right after it, the package staged: both outcomes in every tier.
  if (std::find(plan.modes.begin(), plan.modes.end(), nand::CutMode::after) == plan.modes.end())
    plan.modes.push_back(nand::CutMode::after);
  plan.first = c.boot_ops + 1;  // the staging's operations only
  const campaign::Result r = campaign::run(c, plan);
  std::printf("staging: operations %llu to %llu, %llu cuts\n%s",
              static_cast<unsigned long long>(plan.first),
              static_cast<unsigned long long>(r.operations),
              static_cast<unsigned long long>(r.cuts), r.describe().c_str());
  EXPECT_EQ(r.failed, 0u) << r.describe();
  EXPECT_GT(r.cuts, 3u);
  EXPECT_GT(r.count("not staged: old files"), 0u) << r.describe();
  EXPECT_GT(r.count("staged: applied at the next boot"), 0u) << r.describe();
}

INSTANTIATE_TEST_SUITE_P(Quick, AppUpdateCampaign, ::testing::Values(kQuickUpdate),
                         [](const auto& param_info) { return param_info.param.name; });
INSTANTIATE_TEST_SUITE_P(Full, AppUpdateCampaign, ::testing::Values(kFullUpdate),
                         [](const auto& param_info) { return param_info.param.name; });

}  // namespace
}  // namespace vmodem::sim::testing
