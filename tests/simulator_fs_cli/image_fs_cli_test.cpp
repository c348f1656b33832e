// vmodem image ls|cat|put|get|rm|mkdir|fsck|format on an image made by
// `vmodem run --once`, through the real binary.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli_support.hpp"
#include "temp_dir.hpp"

namespace vmodem::fscli {
namespace {

class ImageFs : public ::testing::Test {
 protected:
  void SetUp() override { image = make_image(dir / "state").string(); }
  std::string on(const std::string& sub, const std::string& partition,
                 const std::string& rest = "") {
    return sub + " " + image + " " + partition + (rest.empty() ? "" : " " + rest);
  }
  Outcome tool(const std::string& sub, const std::string& partition, const std::string& rest = "",
               bool stderr_too = true) {
    return vmodem("image " + on(sub, partition, rest), stderr_too);
  }
  vmodem::testing::TempDir dir;
  std::string image;
};

TEST(ImageFsHelp, EverySubcommandHasHelp) {
  for (const char* cmd : {"ls", "cat", "put", "get", "rm", "mkdir", "fsck", "format"}) {
    const auto r = vmodem(std::string("image ") + cmd + " --help");
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_NE(r.out.find("PARTITION"), std::string::npos) << cmd;
  }
  EXPECT_EQ(vmodem("mount --help").exit_code, 0);
}

TEST_F(ImageFs, ListsFactoryFilesByNameAndAlias) {
  const auto ap = tool("ls", "ap", "-R --json", false);
  ASSERT_EQ(ap.exit_code, 0) << ap.out;
  const auto listing = nlohmann::json::parse(ap.out);
  EXPECT_EQ(listing["partition"], "usrfs");
  bool found = false;
  for (const auto& e : listing["entries"])
    found |= e["path"] == "/usb/vid_pid" && e["type"] == "file" && e["size"] > 0;
  EXPECT_TRUE(found) << ap.out;
  const auto modem = tool("ls", "efs2");
  EXPECT_EQ(modem.exit_code, 0) << modem.out;
  EXPECT_NE(modem.out.find("d          0  nv"), std::string::npos) << modem.out;
  EXPECT_EQ(tool("ls", "modem").out, modem.out);
}

// The firmware's own directory for uploads in progress is not the user's:
// hidden as AT+QFLST hides it, shown with --all.
TEST_F(ImageFs, LsHidesTheUploadDirectoryUnlessAll) {
  ASSERT_EQ(tool("mkdir", "ap", "/.qfupl").exit_code, 0);
  EXPECT_EQ(tool("ls", "ap").out.find(".qfupl"), std::string::npos);
  EXPECT_EQ(tool("ls", "ap", "-R --json", false).out.find(".qfupl"), std::string::npos);
  EXPECT_NE(tool("ls", "ap", "--all").out.find(".qfupl"), std::string::npos);
}

// Host files are hostile input: a device never ends, a FIFO never answers,
// and the image itself must never be read into itself or overwritten.
TEST_F(ImageFs, PutAndGetRefuseDevicesFifosAndTheImageItself) {
  EXPECT_EQ(tool("put", "ap", "/dev/zero /zero").exit_code, 3);
  ASSERT_EQ(shell("mkfifo " + (dir / "fifo").string()).exit_code, 0);
  EXPECT_EQ(tool("put", "ap", (dir / "fifo").string() + " /fifo").exit_code, 3);
  const auto self = tool("put", "ap", image + " /self");
  EXPECT_EQ(self.exit_code, 3);
  EXPECT_NE(self.out.find("the module image itself"), std::string::npos) << self.out;
  const auto size = std::filesystem::file_size(image);
  EXPECT_EQ(tool("get", "ap", "/usb/vid_pid " + image).exit_code, 3);
  EXPECT_EQ(std::filesystem::file_size(image), size);
  EXPECT_EQ(tool("ls", "ap", "/usb").exit_code, 0) << "the image still mounts";
  EXPECT_EQ(tool("get", "ap", "/usb/vid_pid /dev/null").exit_code, 3);
}

TEST_F(ImageFs, PutCatGetRmMkdirRoundTrip) {
  std::string data(5000, '\0');
  for (std::size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<char>(i * 7 + 3);
  write_host_file(dir / "in.bin", data);
  EXPECT_EQ(tool("mkdir", "ap", "/certs").exit_code, 0);
  EXPECT_EQ(tool("put", "ap", (dir / "in.bin").string() + " /certs/in.bin").exit_code, 0);
  // (EXPECT_TRUE: a mismatch would print 5000 bytes twice.)
  EXPECT_TRUE(tool("cat", "ap", "/certs/in.bin", false).out == data);
  const auto got = tool("get", "usrfs", "/certs/in.bin " + (dir / "out.bin").string());
  EXPECT_EQ(got.exit_code, 0) << got.out;
  EXPECT_TRUE(read_host_file(dir / "out.bin") == data);

  const auto tree = nlohmann::json::parse(tool("ls", "ap", "/certs --json", false).out);
  ASSERT_EQ(tree["entries"].size(), 1U);
  EXPECT_EQ(tree["entries"][0]["size"], data.size());

  // A nested destination needs --parents.
  EXPECT_EQ(tool("put", "ap", (dir / "in.bin").string() + " /a/b/c.bin").exit_code, 5);
  EXPECT_EQ(tool("put", "ap", (dir / "in.bin").string() + " /a/b/c.bin --parents").exit_code, 0);
  EXPECT_EQ(tool("rm", "ap", "/a").exit_code, 1) << "not empty";
  EXPECT_EQ(tool("rm", "ap", "-r /a").exit_code, 0);
  EXPECT_EQ(tool("rm", "ap", "/certs/in.bin").exit_code, 0);
  EXPECT_EQ(tool("rm", "ap", "/certs").exit_code, 0);
  EXPECT_EQ(tool("ls", "ap", "/certs").exit_code, 5);
  EXPECT_EQ(tool("cat", "ap", "/certs/in.bin").exit_code, 5);
  EXPECT_EQ(tool("fsck", "ap").exit_code, 0);
}

TEST_F(ImageFs, ClearErrors) {
  const auto missing = tool("cat", "ap", "/no/such");
  EXPECT_EQ(missing.exit_code, 5);
  EXPECT_NE(missing.out.find("/no/such"), std::string::npos) << missing.out;
  EXPECT_EQ(tool("ls", "nosuchpart").exit_code, 5);
  EXPECT_EQ(tool("ls", "boot").exit_code, 2) << "not a file-system partition";
  EXPECT_EQ(tool("put", "ap", (dir / "absent").string() + " /x").exit_code, 5);
  EXPECT_EQ(vmodem("image ls " + (dir / "absent.img").string() + " ap").exit_code, 2);
}

// The first page that holds a live object header (its loss is metadata
// damage): inject an uncorrectable error on header pages of a copy until
// fsck notices.
TEST_F(ImageFs, FsckCleanThenDamaged) {
  const auto clean = tool("fsck", "ap", "--json", false);
  ASSERT_EQ(clean.exit_code, 0) << clean.out;
  EXPECT_TRUE(nlohmann::json::parse(clean.out)["clean"]);
  EXPECT_EQ(tool("fsck", "modem", "--deep").exit_code, 0);

  bool damaged = false;
  for (int block = 0; block < 4 && !damaged; ++block) {
    for (int page = 0; page < 16 && !damaged; ++page) {
      const auto dump = vmodem("image dump-page " + image + " " + std::to_string(block) + " " +
                                   std::to_string(page) + " --partition usrfs --json",
                               false);
      if (dump.exit_code != 0) continue;
      // Object headers start with the "VOBJ" magic.
      if (nlohmann::json::parse(dump.out)["main"].get<std::string>().rfind("564f424a", 0) != 0)
        continue;
      ASSERT_EQ(vmodem("image inject " + image + " " + std::to_string(block) + " " +
                       std::to_string(page) + " --partition usrfs --uncorrectable")
                    .exit_code,
                0);
      const auto fsck = tool("fsck", "ap", "--json", false);
      if (fsck.exit_code == 0) continue;  // a superseded header: harmless
      damaged = true;
      EXPECT_EQ(fsck.exit_code, 1) << fsck.out;
      const auto report = nlohmann::json::parse(fsck.out);
      ASSERT_FALSE(report["failures"].empty());
      EXPECT_EQ(report["failures"][0]["probe"], 3) << fsck.out;
      EXPECT_EQ(report["failures"][0]["block"], block);
      EXPECT_EQ(report["failures"][0]["page"], page);
      const auto text = tool("fsck", "ap");
      EXPECT_EQ(text.exit_code, 1);
      EXPECT_NE(text.out.find("probe 3 metadata_ecc"), std::string::npos) << text.out;
      // The tools refuse the damaged file system, naming the probe.
      const auto ls = tool("ls", "ap");
      EXPECT_EQ(ls.exit_code, 4);
      EXPECT_NE(ls.out.find("probe 3"), std::string::npos) << ls.out;
    }
  }
  ASSERT_TRUE(damaged) << "no live object header found in usrfs blocks 0-3";

  // format repairs it (and needs --yes).
  EXPECT_EQ(tool("format", "ap").exit_code, 2);
  EXPECT_EQ(tool("format", "ap", "--yes --empty").exit_code, 0);
  EXPECT_EQ(tool("ls", "ap", "", false).out, "");
  EXPECT_EQ(tool("format", "ap", "--yes").exit_code, 0);
  EXPECT_EQ(tool("fsck", "ap").exit_code, 0);
  EXPECT_EQ(tool("ls", "ap", "/usb").exit_code, 0);
}

// fsck checks what the boot checks: a missing boot-critical file fails
// probe 7 here as it would at the next power-on (--no-critical skips it).
TEST_F(ImageFs, FsckChecksTheBootCriticalFilesUnlessAsked) {
  ASSERT_EQ(tool("rm", "ap", "/usb/vid_pid").exit_code, 0);
  const auto fsck = tool("fsck", "ap", "--json", false);
  EXPECT_EQ(fsck.exit_code, 1) << fsck.out;
  const auto report = nlohmann::json::parse(fsck.out);
  ASSERT_EQ(report["failures"].size(), 1U) << fsck.out;
  EXPECT_EQ(report["failures"][0]["probe"], 7);
  EXPECT_EQ(report["failures"][0]["path"], "/usb/vid_pid");
  EXPECT_NE(tool("fsck", "ap").out.find("probe 7 critical_missing"), std::string::npos);
  EXPECT_EQ(tool("fsck", "ap", "--no-critical").exit_code, 0);
  EXPECT_EQ(tool("fsck", "modem").exit_code, 0) << "the modem FS's own are all there";
}

// A damaged data page is found only by --deep, and named a data error (no
// boot probe reads data), with its block as the partition and the chip
// number it.
TEST_F(ImageFs, FsckDeepNamesADataPageErrorAsData) {
  // On an empty file system the file's pages come right after the superblock
  // (which each mount copies forward a block).
  ASSERT_EQ(tool("format", "ap", "--yes --empty").exit_code, 0);
  write_host_file(dir / "z.bin", std::string(3000, 'Z'));
  ASSERT_EQ(tool("put", "ap", (dir / "z.bin").string() + " /z.bin").exit_code, 0);
  int found_block = -1, found_page = -1;
  for (int block = 0; block < 4 && found_block < 0; ++block) {
    for (int page = 0; page < 8 && found_block < 0; ++page) {
      const auto dump = vmodem("image dump-page " + image + " " + std::to_string(block) + " " +
                                   std::to_string(page) + " --partition usrfs --json",
                               false);
      if (dump.exit_code != 0) continue;
      if (nlohmann::json::parse(dump.out)["main"].get<std::string>().rfind("5a5a5a5a", 0) != 0)
        continue;
      found_block = block;
      found_page = page;
    }
  }
  ASSERT_GE(found_block, 0) << "no page of /z.bin found in usrfs blocks 0-3";
  ASSERT_EQ(vmodem("image inject " + image + " " + std::to_string(found_block) + " " +
                   std::to_string(found_page) + " --partition usrfs --uncorrectable")
                .exit_code,
            0);
  EXPECT_EQ(tool("fsck", "ap", "--no-critical").exit_code, 0) << "the structure is sound";
  const auto deep = tool("fsck", "ap", "--deep --no-critical --json", false);
  EXPECT_EQ(deep.exit_code, 1) << deep.out;
  const auto failure = nlohmann::json::parse(deep.out)["failures"][0];
  EXPECT_EQ(failure["check"], "data_ecc") << deep.out;
  EXPECT_TRUE(failure["data_error"].get<bool>());
  EXPECT_TRUE(failure["probe"].is_null());
  EXPECT_EQ(failure["path"], "/z.bin");
  EXPECT_EQ(failure["block"], found_block);
  const auto info = nlohmann::json::parse(vmodem("image info " + image + " --json", false).out);
  int first = -1;
  for (const auto& part : info["partitions"]) {
    if (part["name"] == "usrfs") first = part["first_block"].get<int>();
  }
  EXPECT_GE(failure["physical_block"].get<int>(), first + found_block) << "bad blocks shift it";
  const auto text = tool("fsck", "ap", "--deep --no-critical");
  EXPECT_NE(
      text.out.find("data error data_ecc at block " + std::to_string(found_block) + " (physical " +
                    std::to_string(failure["physical_block"].get<int>()) + ")"),
      std::string::npos)
      << text.out;
}

}  // namespace
}  // namespace vmodem::fscli
