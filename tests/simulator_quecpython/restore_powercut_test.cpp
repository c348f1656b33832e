// Power cuts during QuecPython's boot-time restore (guardian.hpp), through
// the one campaign engine (nand/campaign.hpp): the module is damaged as the
// seed's triggers damage it, then booted with a cut at a NAND operation of
// the restore; the next boot must bring /usr to exactly what an uncut boot
// brings it to (every listed file agreeing with /usr/checksum.json, the
// intended edit kept, the unlisted file untouched, no temporary file left),
// and a further run must find nothing to restore. Quick tier: a seeded
// the short restores cut at every operation, the long one at a seeded sample
// (VMODEM_TEST_SEED replays), one cut mode; full tier (Full/RestoreCampaign.*):
// every operation of each, in four cut modes.
#include <cstdio>

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <vmodem/nand/campaign.hpp>

#include "qpy_rig.hpp"
#include "quecpython/guardian.hpp"
#include "temp_dir.hpp"
#include "test_seed.hpp"
#include "tier.hpp"

namespace vmodem::sim::testing {
namespace {

namespace qp = quecpython;
namespace campaign = nand::campaign;

const std::vector<AppFile> kShipped = {
    {"/main.py", "import utime\nwhile True:\n    utime.sleep(1)\n"},
    {"/apn_cfg.json", R"({"apn": "iot.example", "user": "", "password": ""})"},
    {"/lib/util.py", std::string(5000, 'u')},  // three pages
    {"/system_config.json", R"({"replFlag": 0})"},
};

enum class Damage { list_deleted, files_damaged, all_lost };

// The application of the all_lost case: enough files, some of several
// pages, that the restore runs long (and the file system collects garbage).
std::vector<AppFile> many_files() {
  std::vector<AppFile> files;
  for (int i = 0; i < 24; ++i) {
    files.push_back({"/app/mod" + std::to_string(i) + ".py",
                     std::string(static_cast<std::size_t>(300 + 700 * (i % 7)),
                                 static_cast<char>('a' + i % 26))});
  }
  return files;
}

// The module damaged as the seed's triggers damage it, powered off.
tl::expected<void, std::string> damage(QpyRig& rig, Damage what) {
  fs::FileSystem& usr = rig.usr();
  std::vector<fs::Status> done;
  done.push_back(usr.write_file("/notes.txt", bytes("the user's own, never listed")));
  if (what == Damage::all_lost) {
    // The whole application gone, checksum.json with it.
    for (const AppFile& file : many_files())
      done.push_back(usr.unlink(file.path));
    done.push_back(usr.rmdir("/app"));
    done.push_back(usr.unlink("/checksum.json"));
  } else if (what == Damage::list_deleted) {
    // Trigger 1, and a listed file a cut left half-rewritten.
    done.push_back(usr.unlink("/checksum.json"));
    done.push_back(usr.write_file("/main.py", bytes("import ut")));
  } else {
    // Trigger 3 (an edit without checksum.json), an intended edit, and a
    // file edited on purpose and then lost: restored, its entry rewritten.
    done.push_back(usr.write_file("/main.py", bytes("print('patched by hand')\n")));
    done.push_back(usr.write_file("/apn_cfg.json", bytes(R"({"apn": "private.apn"})")));
    done.push_back(usr.write_file("/lib/util.py", bytes("def patched(): pass\n")));
    for (const char* name : {"/usr/apn_cfg.json", "/usr/lib/util.py"}) {
      if (auto crc = qp::update_checksum(usr, name); !crc)
        return tl::unexpected("checksum-update " + std::string(name) + ": " +
                              crc.error().message());
    }
    done.push_back(usr.unlink("/lib/util.py"));
    done.push_back(usr.rmdir("/lib"));
  }
  for (const auto& status : done) {
    if (!status) return tl::unexpected("damaging /usr: " + status.error().message());
  }
  rig.power_off();
  return {};
}

struct RestoreCut final : BootCut {
  std::size_t uncut_restored = 0;

  campaign::Verdict verify(const campaign::CutPoint&) override {
    if (auto failed = boot_after_cut()) return *failed;
    const std::size_t restored = rig->files_restored();
    if (auto failed = tree_differs()) return *failed;
    auto again = qp::restore_from_backup(rig->usr(), rig->bak());
    if (!again || !again->restored.empty())
      return campaign::Verdict::fail("not settled", "a further run restored files");
    if (restored > uncut_restored)
      return campaign::Verdict::fail("restored too much",
                                     std::to_string(restored) + " files restored after the cut");
    return campaign::Verdict::pass("next boot restored " + std::to_string(restored));
  }

  tl::expected<void, std::string> prepare(const std::filesystem::path& app, Damage what) {
    auto made = QpyRig::create(app, /*backup=*/true, /*enabled=*/true);
    if (!made) return tl::unexpected(made.error());
    rig = std::move(*made);
    if (rig->power_on() != Booted::up) return tl::unexpected(std::string("first boot failed"));
    if (auto damaged = damage(*rig, what); !damaged) return damaged;
    rig->flash().lock().storage().snapshot_begin();
    // The uncut boot: what every cut must end in.
    rewind();
    if (rig->power_on() != Booted::up) return tl::unexpected(std::string("uncut boot failed"));
    uncut_restored = rig->files_restored();
    if (uncut_restored < 2) return tl::unexpected(std::string("the damage restores nothing"));
    if (!record(rig->usr(), "/", final_tree)) return tl::unexpected(std::string("reading /usr"));
    auto list = qp::parse_checksum_list(*rig->usr().read_file("/checksum.json"));
    if (!list) return tl::unexpected(std::string("no checksum list after the uncut boot"));
    for (const auto& entry : *list) {
      auto crc = qp::file_crc32(rig->usr(), *qp::fs_path_of(entry.name));
      if (!crc || *crc != entry.crc32)
        return tl::unexpected(entry.name + " disagrees with checksum.json after the uncut boot");
    }
    return {};
  }
};

struct RestoreTier {
  std::string name;
  std::uint32_t sample;  // 0 = every operation of the restore
  std::vector<nand::CutMode> modes;
};
void PrintTo(const RestoreTier& tier, std::ostream* os) {
  *os << tier.name;
}
// The restores of the first two cases take a few dozen operations: the
// quick tier cuts at every one; the third's hundreds are sampled.
const RestoreTier kQuickRestore{"Quick", 40, {nand::CutMode::torn_random}};
const RestoreTier kFullRestore{"Full",
                               0,
                               {nand::CutMode::torn_partial, nand::CutMode::torn_unstable,
                                nand::CutMode::after, nand::CutMode::before}};

class RestoreCampaign : public ::testing::TestWithParam<RestoreTier> {
 protected:
  void SetUp() override {
    if (GetParam().name == kFullRestore.name) VMODEM_FULL_TIER_ONLY();
    spdlog::set_level(spdlog::level::off);  // thousands of boots
  }
  void TearDown() override { spdlog::set_level(spdlog::level::info); }

  void run(Damage what) {
    static const std::uint64_t seed = vmodem::testing::test_seed(17);
    vmodem::testing::TempDir app;
    write_app(app.path(), kShipped);
    if (what == Damage::all_lost) write_app(app.path(), many_files());
    RestoreCut c;
    auto prepared = c.prepare(app.path(), what);
    ASSERT_TRUE(prepared) << prepared.error();
    // Cuts only in the restore: from the hook's first NAND operation on.
    c.rewind();
    ASSERT_FALSE(c.act());
    const std::uint64_t first = c.rig->hook_started_at() + 1;
    campaign::Plan plan;
    plan.modes = GetParam().modes;
    plan.sample = what == Damage::all_lost ? GetParam().sample : 0;
    plan.seed = seed;
    plan.first = first;
    const campaign::Result r = campaign::run(c, plan);
    std::printf("restore of %zu files: %llu NAND operations (restore from %llu), %llu cuts\n%s",
                c.uncut_restored, static_cast<unsigned long long>(r.operations),
                static_cast<unsigned long long>(first), static_cast<unsigned long long>(r.cuts),
                r.describe().c_str());
    EXPECT_EQ(r.failed, 0u) << r.describe();
    EXPECT_GT(r.cuts, 0u);
    if (plan.sample == 0 && what != Damage::list_deleted) {
      // Every operation: some cuts leave the whole restore to the next
      // boot, some leave it a part.
      EXPECT_GT(r.count("next boot restored " + std::to_string(c.uncut_restored)), 0u);
      EXPECT_GT(r.tally.size(), 2u) << r.describe();
    }
  }
};

TEST_P(RestoreCampaign, ChecksumJsonDeletedAndAFileTorn) {
  run(Damage::list_deleted);
}

TEST_P(RestoreCampaign, FilesEditedLostAndUpdated) {
  run(Damage::files_damaged);
}

TEST_P(RestoreCampaign, TheWholeApplicationLost) {
  run(Damage::all_lost);
}

INSTANTIATE_TEST_SUITE_P(Quick, RestoreCampaign, ::testing::Values(kQuickRestore),
                         [](const auto& param_info) { return param_info.param.name; });
INSTANTIATE_TEST_SUITE_P(Full, RestoreCampaign, ::testing::Values(kFullRestore),
                         [](const auto& param_info) { return param_info.param.name; });

}  // namespace
}  // namespace vmodem::sim::testing
