// The bg95-m3-quecpython profile and the QuecPython fields of a profile's
// file systems ("factory", "read_only", "app_backup", "generated_factory"),
// and fota.app_journal.
#include <fstream>

#include <gtest/gtest.h>

#include <vmodem/simulator/profile.hpp>

#include "module/fs_config.hpp"
#include "temp_dir.hpp"

namespace vmodem::sim {
namespace {

TEST(QuecPythonProfile, UsrIsTheUfsAndBakIsReadOnly) {
  const Profile p = load_profile("bg95-m3-quecpython").value();
  EXPECT_EQ(p.family, Family::quecpython);
  const FileSystemSpec* usr = p.file_system("usr");
  const FileSystemSpec* bak = p.file_system("bak");
  ASSERT_TRUE(usr && bak);
  EXPECT_TRUE(usr->ufs);
  EXPECT_FALSE(usr->read_only);
  EXPECT_FALSE(usr->generated_factory);  // no BG95 USB/LwM2M defaults in /usr
  EXPECT_TRUE(bak->read_only);
  EXPECT_TRUE(bak->app_backup);
  EXPECT_TRUE(bak->restore_enabled);
  EXPECT_EQ(bak->mount_name, "bak");
  EXPECT_FALSE(usr->has_backup());  // no AT+QPRTPARA partition backup
  EXPECT_TRUE(factory_files(p, *usr, 1)->empty());
  EXPECT_TRUE(factory_files(p, *bak, 1)->empty());
}

// A profile of one's own for `vmodem run`'s first start: the application
// from a directory next to the profile, backed up, the restore off.
TEST(QuecPythonProfile, TheApplicationFromAProfileField) {
  vmodem::testing::TempDir dir;
  std::filesystem::create_directories(dir / "app");
  std::ofstream(dir / "app" / "main.py") << "print(1)\n";
  auto doc = load_profile("bg95-m3-quecpython")->document;
  for (auto& fs : doc["file_systems"]) {
    if (fs["name"] == "usr" || fs["name"] == "bak") fs["factory"] = "app";
    if (fs["name"] == "bak") fs["app_backup"] = {{"restore", false}};
  }
  std::ofstream(dir / "mine.json") << doc.dump();
  auto p = load_profile((dir / "mine.json").string());
  ASSERT_TRUE(p) << p.error().describe();
  auto usr = factory_files(*p, *p->file_system("usr"), 1);
  ASSERT_TRUE(usr) << usr.error();
  ASSERT_EQ(usr->size(), 1u);
  EXPECT_EQ((*usr)[0].path, "/main.py");
  auto bak = factory_files(*p, *p->file_system("bak"), 1);
  ASSERT_TRUE(bak) << bak.error();
  ASSERT_EQ(bak->size(), 3u);
  EXPECT_EQ((*bak)[0].path, "/backup_restore.json");
  EXPECT_EQ(std::string((*bak)[0].data.begin(), (*bak)[0].data.end()), "{\"enable\":false}\n");
  EXPECT_EQ((*bak)[2].path, "/usr/main.py");
  // The tree is read as hostile input at every use.
  std::filesystem::create_symlink("/etc/hostname", dir / "app" / "link");
  auto refused = factory_files(*p, *p->file_system("usr"), 1);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().find("symbolic link"), std::string::npos) << refused.error();
}

// The application update's journal is on unless a profile says
// "fota": {"app_journal": false} (the unsafe reference the campaign uses).
TEST(QuecPythonProfile, TheAppUpdateJournalIsOnUnlessTheProfileTurnsItOff) {
  EXPECT_TRUE(load_profile("bg95-m3-quecpython")->fota.app_journal);
  vmodem::testing::TempDir dir;
  auto doc = load_profile("bg95-m3-quecpython")->document;
  doc["fota"] = {{"app_journal", false}};
  std::ofstream(dir / "unsafe.json") << doc.dump();
  auto p = load_profile((dir / "unsafe.json").string());
  ASSERT_TRUE(p) << p.error().describe();
  EXPECT_FALSE(p->fota.app_journal);
  doc["fota"] = {{"app_journal", "no"}};
  std::ofstream(dir / "bad.json") << doc.dump();
  EXPECT_FALSE(load_profile((dir / "bad.json").string()));
}

}  // namespace
}  // namespace vmodem::sim
