// AT+QFLDS, +QFLST, +QFDEL and the test forms.

#include <string>

#include "file_fixture.hpp"

namespace vmodem::sim::testing {
namespace {

using Listing = FileCommandsTest;

TEST_F(Listing, QfldsUfsPrintsFreeAndTotal) {
  const auto info = fs_->lock()->statfs().value();
  EXPECT_EQ(send("AT+QFLDS=\"UFS\"\r"), "\r\n+QFLDS: " + std::to_string(info.free_bytes) + "," +
                                            std::to_string(info.total_bytes) + "\r\n\r\nOK\r\n");
  EXPECT_GT(info.free_bytes, 0U);
  EXPECT_LE(info.free_bytes, info.total_bytes);
  put_file("big.bin", random_bytes(20000, 1));
  const auto after = fs_->lock()->statfs().value();
  EXPECT_LT(after.free_bytes, info.free_bytes);
  EXPECT_EQ(send("AT+QFLDS=\"UFS\"\r"), "\r\n+QFLDS: " + std::to_string(after.free_bytes) + "," +
                                            std::to_string(after.total_bytes) + "\r\n\r\nOK\r\n");
}

TEST_F(Listing, QfldsExecuteFormPrintsBytesUsedAndFileCount) {
  EXPECT_EQ(send("AT+QFLDS\r"), "\r\n+QFLDS: 0,0\r\n\r\nOK\r\n");
  put_file("a.txt", "hello");
  put_file("b.txt", "abc");
  EXPECT_EQ(send("AT+QFLDS\r"), "\r\n+QFLDS: 8,2\r\n\r\nOK\r\n");
}

TEST_F(Listing, QfldsOtherStorageAndBadInput) {
  EXPECT_EQ(send("AT+QFLDS=\"RAM\"\r"), cme(425));
  EXPECT_EQ(send("AT+QFLDS=3\r"), cme(400));
  EXPECT_EQ(send("AT+QFLDS=\"UFS\",1\r"), cme(400));
  EXPECT_EQ(send("AT+QFLDS=?\r"), "\r\n+QFLDS: (\"UFS\")\r\n\r\nOK\r\n");
}

TEST_F(Listing, QflstAllFilesSortedWithSizes) {
  EXPECT_EQ(send("AT+QFLST\r"), "\r\nOK\r\n") << "an empty drive lists nothing";
  put_file("b.dat", std::string(300, 'b'));
  put_file("a.txt", "hello");
  put_file("empty", "");
  const std::string all =
      "\r\n+QFLST: \"a.txt\",5\r\n+QFLST: \"b.dat\",300\r\n+QFLST: \"empty\",0\r\n\r\nOK\r\n";
  EXPECT_EQ(send("AT+QFLST\r"), all);
  EXPECT_EQ(send("AT+QFLST=\"*\"\r"), all);
  EXPECT_EQ(send("AT+QFLST=\"UFS:*\"\r"), all);
  EXPECT_EQ(send("AT+QFLST=?\r"), "\r\nOK\r\n");
}

TEST_F(Listing, QflstWildcardsAndNames) {
  put_file("log1.txt", "1");
  put_file("log22.txt", "22");
  put_file("cfg.ini", "x");
  EXPECT_EQ(send("AT+QFLST=\"*.txt\"\r"),
            "\r\n+QFLST: \"log1.txt\",1\r\n+QFLST: \"log22.txt\",2\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+QFLST=\"log?.txt\"\r"), "\r\n+QFLST: \"log1.txt\",1\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+QFLST=\"cfg.ini\"\r"), "\r\n+QFLST: \"cfg.ini\",1\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+QFLST=\"*.bin\"\r"), "\r\nOK\r\n") << "a pattern may match nothing";
  EXPECT_EQ(send("AT+QFLST=\"none.txt\"\r"), cme(405)) << "a plain name must exist";
  EXPECT_EQ(send("AT+QFLST=\"../*\"\r"), cme(406));
}

TEST_F(Listing, QflstHidesDirectoriesAndTheUploadArea) {
  put_file("a", "1");
  ASSERT_TRUE(fs_->lock()->mkdir("/dir"));
  ASSERT_TRUE(upload("up.bin", "data") == upload_ok("data"));
  EXPECT_EQ(send("AT+QFLST\r"), "\r\n+QFLST: \"a\",1\r\n+QFLST: \"up.bin\",4\r\n\r\nOK\r\n");
}

TEST_F(Listing, QfdelOneFile) {
  put_file("a.txt", "1");
  put_file("b.txt", "2");
  EXPECT_EQ(send("AT+QFDEL=\"a.txt\"\r"), "\r\nOK\r\n");
  std::string content;
  EXPECT_FALSE(read_file("a.txt", content));
  EXPECT_TRUE(read_file("b.txt", content));
  EXPECT_EQ(send("AT+QFDEL=\"a.txt\"\r"), cme(405));
  EXPECT_EQ(send("AT+QFDEL=\"UFS:b.txt\"\r"), "\r\nOK\r\n");
  EXPECT_EQ(send("AT+QFDEL=?\r"), "\r\n+QFDEL: <filename>\r\n\r\nOK\r\n");
}

TEST_F(Listing, QfdelAllKeepsOpenFilesAndDirectories) {
  put_file("a.txt", "1");
  put_file("b.txt", "2");
  put_file("c.txt", "3");
  ASSERT_TRUE(fs_->lock()->mkdir("/keep"));
  ASSERT_EQ(send("AT+QFOPEN=\"b.txt\",2\r"), "\r\n+QFOPEN: 1\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+QFDEL=\"b.txt\"\r"), cme(426)) << "an open file cannot go";
  EXPECT_EQ(send("AT+QFDEL=\"*\"\r"), "\r\nOK\r\n");
  EXPECT_EQ(send("AT+QFLST\r"), "\r\n+QFLST: \"b.txt\",1\r\n\r\nOK\r\n");
  EXPECT_TRUE(fs_->lock()->stat("/keep"));
  EXPECT_EQ(send("AT+QFCLOSE=1\r"), "\r\nOK\r\n");
  EXPECT_EQ(send("AT+QFDEL=\"*\"\r"), "\r\nOK\r\n");
  EXPECT_EQ(send("AT+QFLST\r"), "\r\nOK\r\n");
}

TEST_F(Listing, QfdelRejectsPatternsAndEscapes) {
  put_file("a.txt", "1");
  EXPECT_EQ(send("AT+QFDEL=\"*.txt\"\r"), cme(406)) << "only \"*\" is a documented pattern";
  EXPECT_EQ(send("AT+QFDEL=\"../a.txt\"\r"), cme(406));
  EXPECT_EQ(send("AT+QFDEL=\"/a.txt\"\r"), cme(406));
  EXPECT_EQ(send("AT+QFDEL=1\r"), cme(400));
  EXPECT_EQ(send("AT+QFDEL=\"a.txt\",1\r"), cme(400));
  std::string content;
  EXPECT_TRUE(read_file("a.txt", content));
}

TEST_F(Listing, CmeeModesFormatTheSameFailure) {
  engine_->settings().cmee = at::CmeeMode::kOff;
  EXPECT_EQ(send("AT+QFDEL=\"none\"\r"), "\r\nERROR\r\n");
  engine_->settings().cmee = at::CmeeMode::kVerbose;
  const std::string verbose = send("AT+QFDEL=\"none\"\r");
  EXPECT_EQ(verbose.rfind("\r\n+CME ERROR: ", 0), 0U) << verbose;
  EXPECT_EQ(verbose.find("405"), std::string::npos) << "verbose mode prints text: " << verbose;
}

TEST_F(Listing, NoFileSystemAnswersWithTheCommandsFailureCode) {
  fs_.reset();  // unmounted (being restored, powered off)
  EXPECT_EQ(send("AT+QFLDS=\"UFS\"\r"), cme(419));
  EXPECT_EQ(send("AT+QFLST\r"), cme(417));
  EXPECT_EQ(send("AT+QFDEL=\"a\"\r"), cme(418));
  EXPECT_EQ(send("AT+QFUPL=\"a\",1\r"), cme(409));
  EXPECT_EQ(send("AT+QFDWL=\"a\"\r"), cme(411));
  EXPECT_EQ(send("AT+QFOPEN=\"a\"\r"), cme(410));
  EXPECT_EQ(send("AT+QFCLOSE=1\r"), cme(416));
  mount();
}

}  // namespace
}  // namespace vmodem::sim::testing
