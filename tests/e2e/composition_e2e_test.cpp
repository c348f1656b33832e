// A module composed from a user's profile with a third file system answers
// for it on the control socket like for the two built-in ones: `ctl` takes
// the profile's names (the schema does not fix them), and a name the module
// lacks is refused with the names it has.
#include <fstream>

#include <gtest/gtest.h>

#include "e2e_support.hpp"

namespace vmodem::e2e {
namespace {

// bg95-m3 with a third file system, "data" (alias "appfs"), in a partition
// of its own and without a backup.
std::filesystem::path write_three_fs_profile(const std::filesystem::path& dir) {
  std::ifstream in(std::string(VMODEM_CONFIGS) + "/bg95-m3.json");
  auto profile = nlohmann::json::parse(in);
  profile["name"] = "three-fs";
  add_data_file_system(profile);
  std::filesystem::create_directories(dir);
  const auto path = dir / "three-fs.json";
  std::ofstream(path) << profile.dump(2);
  return path;
}

TEST(ComposedModule, CtlNamesAThirdFileSystemAsTheProfileDoes) {
  vmodem::testing::TempDir dir;
  Daemon daemon({"--profile", write_three_fs_profile(dir.path()).string()});
  ASSERT_TRUE(daemon.wait_booted(20s)) << daemon.log();

  // The third file system is known: it has no backup, which is what it says.
  const auto info = daemon.ctl("backup-info --file-system appfs");
  ASSERT_EQ(info.value("error", 0), 1) << info.dump();
  EXPECT_NE(info["output"].get<std::string>().find("no backup for the"), std::string::npos)
      << info.dump();
  // Damage aimed at one of its files is aimed there.
  const auto missing = daemon.ctl("inject --kind corrupt-file --file-system data --path /none");
  ASSERT_EQ(missing.value("error", 0), 1) << missing.dump();
  EXPECT_NE(missing["output"].get<std::string>().find("cannot read /none"), std::string::npos)
      << missing.dump();

  // A name the module lacks: refused, with the names it has.
  const auto unknown = daemon.ctl("backup-info --file-system usb");
  ASSERT_EQ(unknown.value("error", 0), 1) << unknown.dump();
  const auto text = unknown["output"].get<std::string>();
  EXPECT_NE(text.find("no file system 'usb'"), std::string::npos) << text;
  EXPECT_NE(text.find("\"data\""), std::string::npos) << text;

  // The two built-in ones still answer.
  EXPECT_TRUE(daemon.ctl("backup-info --file-system modem").contains("backup_valid"));
  EXPECT_TRUE(daemon.ctl("backup-info --file-system usrfs").contains("backup_valid"));
}

}  // namespace
}  // namespace vmodem::e2e
