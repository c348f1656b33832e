// Profiles: every built-in one loads, and a malformed one is refused with a
// message naming the file, the field and what was expected.
#include <fstream>
#include <set>

#include <gtest/gtest.h>

#include <vmodem/simulator/profile.hpp>

#include "profile/identity.hpp"
#include "temp_dir.hpp"

namespace vmodem::sim {
namespace {

TEST(Profiles, EveryBuiltinLoadsAndHasTheRolesTheModuleNeeds) {
  const auto names = builtin_profile_names();
  EXPECT_EQ(names.size(), 7U);
  for (const auto& name : names) {
    auto profile = load_profile(name);
    ASSERT_TRUE(profile) << profile.error().describe();
    EXPECT_EQ(profile->name, name);
    EXPECT_EQ(profile->geometry.page_size, 2048U);
    EXPECT_EQ(profile->geometry.spare_size, 64U);
    EXPECT_EQ(profile->geometry.pages_per_block, 64U);
    for (auto role : {PartitionRole::modem_fs, PartitionRole::ap_fs, PartitionRole::fota}) {
      EXPECT_NE(profile->find_role(role), nullptr) << name << " lacks " << to_string(role);
    }
    EXPECT_EQ(profile->identity.imei.size(), 15U);
  }
}

TEST(Profiles, Bg95BackupPartitionsHaveTheDocumentedSizes) {
  auto p = load_profile("bg95-m3").value();
  EXPECT_EQ(p.identity.model, "BG95-M3");
  EXPECT_EQ(p.identity.revision, "BG95M3LAR02A03");
  const auto block_bytes = p.geometry.block_bytes();
  // About 1 MB for the modem FS backup and 0.75 MB for the AP FS backup,
  // with two spare blocks each for bad blocks.
  EXPECT_EQ(p.find_role(PartitionRole::modem_fs_backup)->spec.block_count * block_bytes, 1310720U);
  EXPECT_EQ(p.find_role(PartitionRole::ap_fs_backup)->spec.block_count * block_bytes, 1048576U);
  EXPECT_NE(p.find_role(PartitionRole::modem_fs_backup_info), nullptr);
  EXPECT_NE(p.find_role(PartitionRole::ap_fs_backup_info), nullptr);
  EXPECT_EQ(load_profile("uc20")->find_role(PartitionRole::modem_fs_backup), nullptr)
      << "UC20 has no QPRTPARA backup partitions";
}

// Loads bg95-m3, applies `edit` to its JSON and parses it back.
tl::expected<Profile, ProfileError> edited(const std::function<void(nlohmann::json&)>& edit) {
  auto doc = load_profile("bg95-m3")->document;
  edit(doc);
  return parse_profile(doc.dump(), "edited.json");
}

struct BadCase {
  const char* what;
  std::function<void(nlohmann::json&)> edit;
  const char* field;
  const char* expected_words;
};

TEST(Profiles, MalformedFieldsAreNamed) {
  const std::vector<BadCase> cases = {
      {"wrong type", [](auto& j) { j["nand"]["block_count"] = "many"; }, "nand.block_count",
       "expected an integer"},
      {"out of range", [](auto& j) { j["nand"]["ecc"]["strength_bits"] = 100; },
       "nand.ecc.strength_bits", "from 1 to 64"},
      {"missing", [](auto& j) { j["identity"].erase("revision"); }, "identity.revision", "missing"},
      {"typo", [](auto& j) { j["nand"]["timming"] = 1; }, "nand.timming", "unknown field"},
      {"bad imei", [](auto& j) { j["identity"]["imei"] = "123"; }, "identity.imei", "15 digits"},
      {"bad role", [](auto& j) { j["partitions"][3]["role"] = "cache"; }, "partitions[3].role",
       "expected one of"},
      {"overlap", [](auto& j) { j["partitions"][1]["first_block"] = 2; }, "partitions", "overlap"},
      {"beyond chip", [](auto& j) { j["partitions"][0]["first_block"] = 5000; },
       "partitions[0].first_block", "from 0 to 2047"},
      {"sector size", [](auto& j) { j["nand"]["ecc"]["sector_size"] = 768; },
       "nand.ecc.sector_size", "divisor"},
      {"schema", [](auto& j) { j["schema"] = "other"; }, "schema", "vmodem-profile/1"},
      {"too many bad", [](auto& j) { j["nand"]["factory_bad_blocks"]["count"] = 500; },
       "nand.factory_bad_blocks.count", "from 0 to 40"},
  };
  for (const auto& c : cases) {
    auto result = edited(c.edit);
    ASSERT_FALSE(result) << c.what;
    EXPECT_EQ(result.error().source, "edited.json") << c.what;
    EXPECT_EQ(result.error().field, c.field) << c.what << ": " << result.error().describe();
    EXPECT_NE(result.error().message.find(c.expected_words), std::string::npos)
        << c.what << ": " << result.error().describe();
  }
}

// What each layer needs of the chip and its partition, asked of that layer
// at load: a profile it cannot serve never reaches a boot (bg95-m3: 7 efs2,
// 8 efs2_bak, 10 usrfs, 11 usrfs_bak, 13 fota).
TEST(Profiles, GeometryEveryLayerNeedsIsCheckedAtLoad) {
  const std::vector<BadCase> cases = {
      {"512-byte pages, 16-byte spare (overran the backup data tags)",
       [](auto& j) {
         j["nand"]["page_size"] = 512;
         j["nand"]["spare_size"] = 16;
       },
       "nand.spare_size", "spare bytes"},
      {"spare for backup tags but not file-system tags",
       [](auto& j) { j["nand"]["spare_size"] = 30; }, "nand.spare_size", "page tags"},
      {"no ap_fs", [](auto& j) { j["partitions"][10]["role"] = "none"; }, "partitions",
       "no partition has role ap_fs"},
      {"no modem_fs", [](auto& j) { j["partitions"][7]["role"] = "none"; }, "partitions",
       "no partition has role modem_fs"},
      {"one-block file system", [](auto& j) { j["partitions"][10]["blocks"] = 1; },
       "partitions[10].blocks", "at least 5 blocks"},
      {"file system below its reserve",
       [](auto& j) {
         j["fs"] = {{"reserve_blocks", 30}};
       },
       "partitions[7].blocks", "reserve_blocks 30"},
      {"backup data partition without a spare block",
       [](auto& j) { j["partitions"][11]["blocks"] = 2; }, "partitions[11].blocks", "backup data"},
      {"FOTA area of three blocks", [](auto& j) { j["partitions"][13]["blocks"] = 3; },
       "partitions[13].blocks", "FOTA area"},
      {"FOTA deadline out of range",
       [](auto& j) {
         j["fota"] = {{"download_deadline_s", 0}};
       },
       "fota.download_deadline_s", "from 1 to 86400"},
      {"FOTA section typo",
       [](auto& j) {
         j["fota"] = {{"deadline", 5}};
       },
       "fota.deadline", "unknown field"},
  };
  for (const auto& c : cases) {
    auto result = edited(c.edit);
    ASSERT_FALSE(result) << c.what;
    EXPECT_EQ(result.error().field, c.field) << c.what << ": " << result.error().describe();
    EXPECT_NE(result.error().message.find(c.expected_words), std::string::npos)
        << c.what << ": " << result.error().describe();
  }
  auto deadline = edited([](auto& j) { j["fota"] = {{"download_deadline_s", 60}}; });
  ASSERT_TRUE(deadline) << deadline.error().describe();
  EXPECT_EQ(deadline->fota.download_deadline_s, 60U);
  EXPECT_EQ(load_profile("bg95-m3")->fota.download_deadline_s, 1800U);
}

TEST(Profiles, FamilyAndFileSystemsComeFromTheProfile) {
  const auto bg95 = load_profile("bg95-m3").value();
  EXPECT_EQ(bg95.family, Family::bg95);
  ASSERT_EQ(bg95.file_systems.size(), 2U);
  const FileSystemSpec& modem = bg95.file_systems[0];
  const FileSystemSpec& ap = bg95.file_systems[1];
  EXPECT_EQ(modem.name, "modem");
  EXPECT_EQ(modem.role, FsRole::modem);
  EXPECT_EQ(modem.partition, bg95.find_role(PartitionRole::modem_fs)->spec.name);
  EXPECT_EQ(modem.backup_data, bg95.find_role(PartitionRole::modem_fs_backup)->spec.name);
  EXPECT_EQ(ap.name, "ap");
  EXPECT_TRUE(ap.ufs);
  EXPECT_EQ(&bg95.ufs(), &bg95.file_systems[1]);
  EXPECT_EQ(ap.mount_name, "ufs");
  EXPECT_EQ(bg95.file_system("ufs"), &ap);    // alias
  EXPECT_EQ(bg95.file_system("usrfs"), &ap);  // partition
  EXPECT_EQ(bg95.file_system("nope"), nullptr);

  const auto uc20 = load_profile("uc20").value();
  EXPECT_EQ(uc20.family, Family::uc20);
  for (const auto& fs : uc20.file_systems)
    EXPECT_FALSE(fs.has_backup()) << fs.name;

  // A profile written before the sections existed: bg95, and the same two
  // file systems derived from its partition roles.
  auto old = edited([](auto& j) {
    j.erase("family");
    j.erase("file_systems");
  });
  ASSERT_TRUE(old) << old.error().describe();
  EXPECT_EQ(old->family, Family::bg95);
  ASSERT_EQ(old->file_systems.size(), 2U);
  for (std::size_t i = 0; i < 2; ++i) {
    const auto& got = old->file_systems[i];
    const auto& want = bg95.file_systems[i];
    EXPECT_EQ(got.name, want.name);
    EXPECT_EQ(got.partition, want.partition);
    EXPECT_EQ(got.backup_data, want.backup_data);
    EXPECT_EQ(got.backup_info, want.backup_info);
    EXPECT_EQ(got.ufs, want.ufs);
    EXPECT_EQ(got.mount_name, want.mount_name);
    EXPECT_EQ(got.alias, want.alias);
  }
}

TEST(Profiles, AFileSystemListTheModuleCannotServeIsRefused) {
  const nlohmann::json data = {{"name", "data"}, {"partition", "mibib"}, {"role", "data"}};
  const std::vector<BadCase> cases = {
      {"unknown family", [](auto& j) { j["family"] = "bg96"; }, "family", "expected one of"},
      {"QuecPython without a backup file system", [](auto& j) { j["family"] = "quecpython"; },
       "file_systems", "exactly one file system with \"app_backup\""},
      {"a per-file backup on a BG95",
       [&](auto& j) {
         auto bak = data;
         bak["read_only"] = true;
         bak["app_backup"] = nlohmann::json::object();
         j["file_systems"].push_back(bak);
       },
       "file_systems[2].app_backup", "only the quecpython family"},
      {"no such partition", [](auto& j) { j["file_systems"][1]["partition"] = "nand0"; },
       "file_systems[1].partition", "no partition is named"},
      {"partition used twice",
       [&](auto& j) {
         auto twice = data;
         twice["partition"] = "usrfs";
         j["file_systems"].push_back(twice);
       },
       "file_systems[2].partition", "already serves"},
      {"backup without info", [](auto& j) { j["file_systems"][0]["backup"].erase("info"); },
       "file_systems[0].backup.info", "missing"},
      {"no AP file system", [](auto& j) { j["file_systems"][1]["role"] = "data"; }, "file_systems",
       "exactly one"},
      {"two UFS",
       [&](auto& j) {
         auto second = data;
         second["ufs"] = true;
         j["file_systems"].push_back(second);
       },
       "file_systems", "more than one"},
      {"name not a word", [](auto& j) { j["file_systems"][1]["name"] = "A P"; },
       "file_systems[1].name", "a-z"},
      {"UC20 with a partition backup", [](auto& j) { j["family"] = "uc20"; },
       "file_systems[0].backup", "no partition backup"},
      {"a file system of one block",
       [&](auto& j) {
         auto small = data;
         small["partition"] = "sbl";
         j["partitions"][0]["blocks"] = 1;
         j["partitions"][1]["first_block"] = 1;
         j["partitions"][1]["blocks"] = 11;
         j["file_systems"].push_back(small);
       },
       "partitions[0].blocks", "at least 5 blocks"},
  };
  for (const auto& c : cases) {
    auto result = edited(c.edit);
    ASSERT_FALSE(result) << c.what;
    EXPECT_EQ(result.error().field, c.field) << c.what << ": " << result.error().describe();
    EXPECT_NE(result.error().message.find(c.expected_words), std::string::npos)
        << c.what << ": " << result.error().describe();
  }
  // A third file system in a partition of its own is served.
  auto three = edited([&](auto& j) {
    j["partitions"].push_back({{"name", "appdata"}, {"first_block", 350}, {"blocks", 24}});
    auto extra = data;
    extra["partition"] = "appdata";
    j["file_systems"].insert(j["file_systems"].begin(), extra);  // listed first, booted last
  });
  ASSERT_TRUE(three) << three.error().describe();
  ASSERT_EQ(three->file_systems.size(), 3U);
  EXPECT_EQ(three->file_systems[0].role, FsRole::modem);
  EXPECT_EQ(three->file_systems[2].name, "data");
}

// `run --count`: every module of a fleet has its own IMEI (Luhn-valid, same
// TAC), IMSI (same MCC/MNC) and ICCID; module 0 keeps the profile's.
TEST(Profiles, FleetModulesGetTheirOwnIdentity) {
  const Identity base = load_profile("bg95-m3")->identity;
  EXPECT_EQ(luhn_check_digit("49015420323751"), '8');  // a published example IMEI
  EXPECT_EQ(base.imei.back(), luhn_check_digit(std::string_view(base.imei).substr(0, 14)));
  const Identity zero = fleet_identity(base, 0);
  EXPECT_EQ(zero.imei, base.imei);
  EXPECT_EQ(zero.imsi, base.imsi);
  EXPECT_EQ(zero.iccid, base.iccid);
  std::set<std::string> imeis, imsis, iccids;
  for (std::uint64_t i = 0; i < 1000; ++i) {
    const Identity id = fleet_identity(base, i);
    ASSERT_EQ(id.imei.size(), 15U);
    EXPECT_EQ(id.imei.substr(0, 8), base.imei.substr(0, 8)) << "the TAC stays";
    EXPECT_EQ(id.imei.back(), luhn_check_digit(std::string_view(id.imei).substr(0, 14))) << id.imei;
    EXPECT_EQ(id.imsi.substr(0, 5), base.imsi.substr(0, 5)) << "MCC and MNC stay";
    EXPECT_EQ(id.iccid.size(), base.iccid.size());
    imeis.insert(id.imei);
    imsis.insert(id.imsi);
    iccids.insert(id.iccid);
  }
  EXPECT_EQ(imeis.size(), 1000U);
  EXPECT_EQ(imsis.size(), 1000U);
  EXPECT_EQ(iccids.size(), 1000U);
  EXPECT_EQ(fleet_identity(base, 1).imei, "866349041234570");  // serial +1, check digit redone
}

TEST(Profiles, FileSystemLimitsReachTheFileSystemConfig) {
  auto doc = load_profile("bg95-m3")->document;
  doc["fs"] = {{"max_name", 20}, {"max_open_files", 4}};
  auto p = parse_profile(doc.dump(), "limits.json");
  ASSERT_TRUE(p) << p.error().describe();
  EXPECT_EQ(p->fs.max_name, 20U);
  EXPECT_EQ(p->fs.max_open_files, 4U);
  EXPECT_EQ(p->fs.max_file_size, 4U << 20) << "unset limits keep the defaults";
}

TEST(Profiles, FilesAndErrors) {
  vmodem::testing::TempDir dir;
  const auto path = (dir / "mine.json").string();
  { std::ofstream(path) << load_profile("bg77")->document.dump(); }
  auto mine = load_profile(path);
  ASSERT_TRUE(mine) << mine.error().describe();
  EXPECT_EQ(mine->identity.model, "BG77");
  EXPECT_EQ(mine->source, path);

  { std::ofstream(path) << "{ \"schema\": "; }
  auto broken = load_profile(path);
  ASSERT_FALSE(broken);
  EXPECT_NE(broken.error().describe().find("not valid JSON"), std::string::npos);
  EXPECT_NE(broken.error().describe().find(path), std::string::npos);

  auto missing = load_profile("bg96");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("bg95-m3"), std::string::npos) << "lists what exists";
  EXPECT_FALSE(load_profile((dir / "none.json").string()));
}

}  // namespace
}  // namespace vmodem::sim
