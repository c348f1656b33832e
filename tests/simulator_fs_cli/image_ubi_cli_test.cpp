// vmodem image ubiformat | ubi-info | ubi-read through the real binary, on
// images made by the real mtd-utils ubinize (Debian mtd-utils).
#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli_support.hpp"
#include "host_tools.hpp"
#include "temp_dir.hpp"

namespace vmodem::fscli {
namespace {

class ImageUbi : public ::testing::Test {
 protected:
  void SetUp() override {
    tool_ = vmodem::testing::host_tool("ubinize");
    if (tool_.empty()) GTEST_SKIP() << "ubinize (Debian package mtd-utils) is not installed";
    image = make_image(dir / "state").string();
    // 300,000 bytes: three LEBs of a static volume, the last one partly used.
    std::string payload(300'000, '\0');
    for (std::size_t i = 0; i < payload.size(); ++i)
      payload[i] = static_cast<char>((i * 7919) >> 3);
    write_host_file(dir / "payload.bin", payload);
    write_host_file(dir / "ubi.ini",
                    "[rootfs]\nmode=ubi\nimage=" + (dir / "payload.bin").string() +
                        "\nvol_id=0\nvol_type=static\nvol_name=rootfs\n"
                        "[usrdata]\nmode=ubi\nvol_id=1\nvol_type=dynamic\nvol_size=1MiB\n"
                        "vol_name=usrdata\n");
    const auto made = shell(tool_ + " -o " + (dir / "ubi.img").string() +
                            " -m 2048 -p 128KiB -Q 4242 " + (dir / "ubi.ini").string() + " 2>&1");
    ASSERT_EQ(made.exit_code, 0) << made.out;
  }
  // The image's digest (it is hundreds of MB, mostly holes: sha256sum reads
  // it far faster than a test could).
  std::string digest() { return shell("sha256sum " + image).out; }
  Outcome ubi(const std::string& sub, const std::string& rest, bool stderr_too = true) {
    return vmodem("image " + sub + " " + image + " " + rest, stderr_too);
  }
  std::string tool_;
  vmodem::testing::TempDir dir;
  std::string image;
};

TEST(ImageUbiHelp, EverySubcommandHasHelp) {
  for (const char* cmd : {"ubiformat", "ubi-info", "ubi-read", "fastboot-erase"}) {
    const auto r = vmodem(std::string("image ") + cmd + " --help");
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_NE(r.out.find("PARTITION"), std::string::npos) << cmd;
  }
}

TEST_F(ImageUbi, AUbinizeImageWrittenIntoAPartitionAttachesAndReadsBackByteForByte) {
  const auto written = ubi("ubiformat", "fota " + (dir / "ubi.img").string() + " --json", false);
  ASSERT_EQ(written.exit_code, 0) << written.out;
  const auto report = nlohmann::json::parse(written.out);
  EXPECT_EQ(report["image_pebs"], 5);  // 2 volume-table copies + 3 LEBs of rootfs
  EXPECT_EQ(report["skipped_bad"], 0);

  const auto info_out = ubi("ubi-info", "fota --json", false);
  ASSERT_EQ(info_out.exit_code, 0) << info_out.out;
  const auto info = nlohmann::json::parse(info_out.out);
  EXPECT_EQ(info["layout"]["image_seq"], 4242);
  EXPECT_EQ(info["layout"]["leb_size"], 126976);
  ASSERT_EQ(info["volumes"].size(), 2u);
  EXPECT_EQ(info["volumes"][0]["name"], "rootfs");
  EXPECT_EQ(info["volumes"][0]["type"], "static");
  EXPECT_EQ(info["volumes"][0]["size"], 300000);
  EXPECT_EQ(info["volumes"][1]["type"], "dynamic");
  EXPECT_EQ(info["pebs"]["used"], 5);

  const auto read = ubi("ubi-read", "fota rootfs -o " + (dir / "back.bin").string());
  ASSERT_EQ(read.exit_code, 0) << read.out;
  EXPECT_EQ(read_host_file(dir / "back.bin"), read_host_file(dir / "payload.bin"));
  EXPECT_TRUE(ubi("ubi-read", "fota 0 -o " + (dir / "by-id.bin").string()).exit_code == 0);
  EXPECT_EQ(read_host_file(dir / "by-id.bin"), read_host_file(dir / "payload.bin"));
}

TEST_F(ImageUbi, WhatIsNotAUbiImageIsRefusedAndTheImageIsLeftAlone) {
  const auto before = digest();
  // Not whole eraseblocks, not UBI, not a regular file, the image itself.
  EXPECT_EQ(ubi("ubiformat", "fota " + (dir / "payload.bin").string()).exit_code, 4);
  write_host_file(dir / "zeros.img", std::string(131072 * 2, '\0'));
  const auto zeros = ubi("ubiformat", "fota " + (dir / "zeros.img").string());
  EXPECT_EQ(zeros.exit_code, 4);
  EXPECT_NE(zeros.out.find("EC header"), std::string::npos) << zeros.out;
  EXPECT_EQ(ubi("ubiformat", "fota /dev/zero").exit_code, 3);
  EXPECT_EQ(ubi("ubiformat", "fota " + image).exit_code, 3);
  ASSERT_EQ(shell("mkfifo " + (dir / "fifo").string()).exit_code, 0);
  EXPECT_EQ(ubi("ubiformat", "fota " + (dir / "fifo").string()).exit_code, 3);
  EXPECT_EQ(digest(), before);
  // Reading a volume into the image itself is refused too.
  ASSERT_EQ(ubi("ubiformat", "fota " + (dir / "ubi.img").string()).exit_code, 0);
  const auto after = digest();
  EXPECT_EQ(ubi("ubi-read", "fota rootfs -o " + image).exit_code, 3);
  EXPECT_EQ(digest(), after);
}

TEST_F(ImageUbi, AFileSystemPartitionIsNotUbiAndSaysSo) {
  const auto info = ubi("ubi-info", "efs2");
  EXPECT_EQ(info.exit_code, 4) << info.out;
  EXPECT_NE(info.out.find("no UBI header"), std::string::npos) << info.out;
  EXPECT_EQ(ubi("ubi-info", "nosuch").exit_code, 5);
}

}  // namespace
}  // namespace vmodem::fscli
