// The EC25 (QuecOpen) application sync of seed 001 through the real binary:
// an application put into `system` with the image tools is backed up into
// `usr_data` by the next boot, and deleted from `system` it comes back from
// there (the seed's test method 1, both sides on UBI volumes); an updated
// side is copied over the other (test method 2); a partition erased whole is
// formatted and refilled (test method 3).
#include <gtest/gtest.h>

#include "cli_support.hpp"
#include "temp_dir.hpp"

namespace vmodem::fscli {
namespace {

class Ec25AppSync : public ::testing::Test {
 protected:
  void SetUp() override {
    state = (dir / "state").string();
    image = state + "/nand.img";
    ASSERT_EQ(boot("--profile ec25").exit_code, 0);
  }
  // One power-on of the module until its boot is done, then off.
  Outcome boot(const std::string& extra = "") {
    return vmodem("run --once --seed 5 --log-level info --state " + state + " " + extra);
  }
  Outcome tool(const std::string& sub, const std::string& fs, const std::string& rest) {
    return vmodem("image " + sub + " " + image + " " + fs + " " + rest);
  }
  // An application and its version tag put into system with the image
  // tools, as a developer installs one (the host copy at dir/app.bin).
  void install_app(const std::string& content, const std::string& version) {
    write_host_file(dir / "app.bin", content);
    write_host_file(dir / "ver.txt", version + "\n");
    ASSERT_EQ(tool("mkdir", "system", "/usrapp /usrapp/apprun /usrapp/apprun/apps").exit_code, 0);
    ASSERT_EQ(tool("put", "system", (dir / "app.bin").string() + " /usrapp/apprun/apps/app.bin")
                  .exit_code,
              0);
    ASSERT_EQ(
        tool("put", "system", (dir / "ver.txt").string() + " /usrapp/apprun/app_ver.txt").exit_code,
        0);
  }
  vmodem::testing::TempDir dir;
  std::string state;
  std::string image;
};

TEST_F(Ec25AppSync, TheBootBacksTheApplicationUpAndRestoresItWhenDeleted) {
  install_app(std::string(20000, 'a') + "end", "2");
  ASSERT_FALSE(HasFatalFailure());

  const auto first = boot();
  EXPECT_NE(first.out.find("app sync: to_backup (system version 2, backup version -1), 1 files"),
            std::string::npos)
      << first.out;
  EXPECT_EQ(tool("cat", "usrdata", "/appbackup/app_ver.txt").out, "2\n");
  ASSERT_EQ(
      tool("get", "usrdata", "/appbackup/apps/app.bin " + (dir / "back.bin").string()).exit_code,
      0);
  EXPECT_EQ(read_host_file(dir / "back.bin"), read_host_file(dir / "app.bin"));

  // Test method 1: delete the application and its tag on system.
  ASSERT_EQ(tool("rm", "system", "-r /usrapp/apprun/apps").exit_code, 0);
  ASSERT_EQ(tool("rm", "system", "/usrapp/apprun/app_ver.txt").exit_code, 0);
  const auto second = boot();
  EXPECT_NE(second.out.find("app sync: to_system (system version -1, backup version 2)"),
            std::string::npos)
      << second.out;
  ASSERT_EQ(tool("get", "system", "/usrapp/apprun/apps/app.bin " + (dir / "again.bin").string())
                .exit_code,
            0);
  EXPECT_EQ(read_host_file(dir / "again.bin"), read_host_file(dir / "app.bin"));

  // In step now: the next boot copies nothing.
  EXPECT_EQ(boot().out.find("app sync: to_"), std::string::npos);
}

// Test method 3, both ways: a partition erased as `fastboot erase` does is
// formatted by the next boot (FS_FORMATTED) and refilled from the other
// side — the seed's scenarios "usr_data damaged" and "system damaged".
TEST_F(Ec25AppSync, AnErasedPartitionIsFormattedAndRefilledFromTheOther) {
  install_app(std::string(9000, 'b'), "3");
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_NE(boot().out.find("app sync: to_backup"), std::string::npos);

  ASSERT_EQ(vmodem("image fastboot-erase " + image + " usr_data").exit_code, 0);
  EXPECT_NE(tool("ls", "usrdata", "/").exit_code, 0) << "nothing to mount until the next boot";
  const auto refill = boot();
  EXPECT_NE(refill.out.find("partition usr_data formatted for UBI volume usrdata"),
            std::string::npos)
      << refill.out;
  EXPECT_NE(refill.out.find("app sync: to_backup (system version 3, backup version -1)"),
            std::string::npos)
      << refill.out;
  EXPECT_EQ(tool("cat", "usrdata", "/appbackup/app_ver.txt").out, "3\n");

  ASSERT_EQ(vmodem("image fastboot-erase " + image + " system").exit_code, 0);
  const auto restore = boot();
  EXPECT_NE(restore.out.find("app sync: to_system (system version -1, backup version 3)"),
            std::string::npos)
      << restore.out;
  ASSERT_EQ(
      tool("get", "system", "/usrapp/apprun/apps/app.bin " + (dir / "back.bin").string()).exit_code,
      0);
  EXPECT_EQ(read_host_file(dir / "back.bin"), read_host_file(dir / "app.bin"));
}

TEST_F(Ec25AppSync, BothUbiPartitionsAttachWithTheirVolumes) {
  const auto system = vmodem("image ubi-info " + image + " system --json", false);
  ASSERT_EQ(system.exit_code, 0) << system.out;
  EXPECT_NE(system.out.find("\"rootfs\""), std::string::npos) << system.out;
  const auto usrdata = vmodem("image ubi-info " + image + " usr_data --json", false);
  ASSERT_EQ(usrdata.exit_code, 0) << usrdata.out;
  EXPECT_NE(usrdata.out.find("\"usrdata\""), std::string::npos) << usrdata.out;
  EXPECT_EQ(tool("fsck", "usrdata", "").exit_code, 0);
  EXPECT_EQ(tool("fsck", "system", "").exit_code, 0);
}

// Test method 2, both ways: an application updated on one side (a file
// added, the version raised by one) is copied over the other by the next
// boot — system's update into usr_data, then usr_data's into system.
TEST_F(Ec25AppSync, AnUpdatedSideIsCopiedOverTheOther) {
  install_app("first", "2");
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_NE(boot().out.find("app sync: to_backup"), std::string::npos);

  write_host_file(dir / "new.py", "print('added on system')\n");
  write_host_file(dir / "v3.txt", "3\n");
  ASSERT_EQ(
      tool("put", "system", (dir / "new.py").string() + " /usrapp/apprun/apps/new.py").exit_code,
      0);
  ASSERT_EQ(tool("rm", "system", "/usrapp/apprun/app_ver.txt").exit_code, 0);
  ASSERT_EQ(
      tool("put", "system", (dir / "v3.txt").string() + " /usrapp/apprun/app_ver.txt").exit_code,
      0);
  const auto up = boot();
  EXPECT_NE(up.out.find("app sync: to_backup (system version 3, backup version 2), 2 files"),
            std::string::npos)
      << up.out;
  EXPECT_EQ(tool("cat", "usr_data", "/usrdata/appbackup/apps/new.py").out,
            "print('added on system')\n");

  write_host_file(dir / "back.py", "print('added on usr_data')\n");
  write_host_file(dir / "v4.txt", "4\n");
  ASSERT_EQ(tool("put", "usr_data", (dir / "back.py").string() + " /usrdata/appbackup/apps/back.py")
                .exit_code,
            0);
  ASSERT_EQ(tool("rm", "usr_data", "/usrdata/appbackup/app_ver.txt").exit_code, 0);
  ASSERT_EQ(tool("put", "usr_data", (dir / "v4.txt").string() + " /usrdata/appbackup/app_ver.txt")
                .exit_code,
            0);
  const auto down = boot();
  EXPECT_NE(down.out.find("app sync: to_system (system version 3, backup version 4), 3 files"),
            std::string::npos)
      << down.out;
  EXPECT_EQ(tool("cat", "system", "/usrapp/apprun/apps/back.py").out,
            "print('added on usr_data')\n");
  EXPECT_EQ(tool("cat", "system", "/usrapp/apprun/app_ver.txt").out, "4\n");
}

// The image tools take paths as the module's Linux sees them: usr_data's
// /appbackup is /usrdata/appbackup (its volume is mounted there), and a
// path not under the mount point is one inside the file system.
TEST_F(Ec25AppSync, TheImageToolsTakeTheModulesLinuxPaths) {
  install_app("linux paths", "7");
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_NE(boot().out.find("app sync: to_backup"), std::string::npos);
  EXPECT_EQ(tool("cat", "usr_data", "/usrdata/appbackup/app_ver.txt").out, "7\n");
  EXPECT_EQ(tool("cat", "usr_data", "/appbackup/app_ver.txt").out, "7\n");
  EXPECT_NE(tool("ls", "usr_data", "/usrdata/appbackup/apps").out.find("app.bin"),
            std::string::npos);
  ASSERT_EQ(tool("mkdir", "usr_data", "/usrdata/notes").exit_code, 0);
  ASSERT_EQ(tool("put", "usr_data", (dir / "ver.txt").string() + " /usrdata/notes/v").exit_code, 0);
  EXPECT_EQ(tool("cat", "usr_data", "/notes/v").out, "7\n");
  ASSERT_EQ(tool("rm", "usr_data", "-r /usrdata/notes").exit_code, 0);
  EXPECT_NE(tool("cat", "usr_data", "/notes/v").exit_code, 0);
  EXPECT_EQ(tool("cat", "system", "/usrapp/apprun/app_ver.txt").out, "7\n");
}

}  // namespace
}  // namespace vmodem::fscli
