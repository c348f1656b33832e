// AT+QFOTADL's argument parser and its error-code table, without a module:
// the guide's own examples, the field splits, what libcurl is given and what
// the log shows.
#include "fota_download/fota_source.hpp"

#include <gtest/gtest.h>

#include "fota_download/download.hpp"

namespace vmodem::sim::fota {
namespace {

TEST(FotaSource, TheGuidesExamples) {
  const auto ftp = parse_fota_source("FTP://test:test@demo.com:21/update/delta.bin");
  ASSERT_TRUE(ftp);
  EXPECT_EQ(ftp->kind, SourceKind::ftp);
  EXPECT_EQ(ftp->user, "test");
  EXPECT_EQ(ftp->password, "test");
  EXPECT_EQ(ftp->host, "demo.com");
  EXPECT_EQ(ftp->port, 21);
  EXPECT_EQ(ftp->path, "update/delta.bin");

  const auto http = parse_fota_source(" HTTP://www.example.com:80/delta.bin ");
  ASSERT_TRUE(http);
  EXPECT_EQ(http->kind, SourceKind::http);
  EXPECT_EQ(http->host, "www.example.com");
  EXPECT_EQ(http->path, "delta.bin");
  EXPECT_EQ(http->curl_url(), "http://www.example.com:80/delta.bin");

  const auto ufs = parse_fota_source("UFS:delta.bin");
  ASSERT_TRUE(ufs);
  EXPECT_EQ(ufs->kind, SourceKind::ufs);
  EXPECT_EQ(ufs->file, "delta.bin");
}

TEST(FotaSource, DefaultsAndCase) {
  EXPECT_EQ(parse_fota_source("ftp://h/x")->port, 21);
  EXPECT_EQ(parse_fota_source("http://h/x")->port, 80);
  EXPECT_EQ(parse_fota_source("Ftp://h:2121/x")->port, 2121);
  EXPECT_EQ(parse_fota_source("ufs:pkg.bin")->file, "pkg.bin");
  EXPECT_EQ(parse_fota_source("pkg.bin")->file, "pkg.bin") << "the UFS: prefix is optional";
  EXPECT_TRUE(parse_fota_source("ftp://h/x")->user.empty()) << "anonymous";
}

// Linux-based modules (EC2x QuecOpen) take a package by its absolute path
// in the module's Linux tree; the module resolves it to a file system.
TEST(FotaSource, AnAbsolutePathIsAFileOfTheModulesLinuxTree) {
  const auto linux_path = parse_fota_source("/usrdata/fota/pkg.bin");
  ASSERT_TRUE(linux_path);
  EXPECT_EQ(linux_path->kind, SourceKind::ufs);
  EXPECT_EQ(linux_path->file, "/usrdata/fota/pkg.bin");
  EXPECT_EQ(parse_fota_source("UFS:/usrdata/pkg.bin")->file, "/usrdata/pkg.bin");
  for (const char* bad : {"/", "/usrdata/", "/usrdata/../etc/shadow", "/usrdata//pkg.bin",
                          "/usrdata/./pkg.bin", "/usrdata/p*.bin",
                          "/usr\x01"
                          "data/pkg.bin"})
    EXPECT_FALSE(parse_fota_source(bad)) << bad;
}

TEST(FotaSource, PasswordRunsToTheLastAtAndIsNeverLogged) {
  const auto s = parse_fota_source("FTP://me:p@ss:w/rd@10.0.0.1/dir/pkg.bin");
  ASSERT_FALSE(s) << "a '/' ends the server part, so this password cannot be written";
  const auto t = parse_fota_source("FTP://me:p@ss:w%2Frd@10.0.0.1/dir/a b.bin");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->user, "me");
  EXPECT_EQ(t->password, "p@ss:w%2Frd");
  EXPECT_EQ(t->host, "10.0.0.1");
  EXPECT_EQ(t->curl_url(), "ftp://me:p%40ss%3Aw%252Frd@10.0.0.1:21/dir/a%20b.bin");
  EXPECT_EQ(t->redacted(), "ftp://me:***@10.0.0.1:21/dir/a%20b.bin");
}

TEST(FotaSource, Limits) {
  const std::string s50(50, 'a'), s51(51, 'a');
  EXPECT_TRUE(parse_fota_source("FTP://" + s50 + ":" + s50 + "@" + s50 + ":1/" + s50));
  EXPECT_FALSE(parse_fota_source("FTP://" + s51 + ":p@h/x"));
  EXPECT_FALSE(parse_fota_source("FTP://u:" + s51 + "@h/x"));
  EXPECT_FALSE(parse_fota_source("FTP://u:p@" + s51 + "/x"));
  EXPECT_FALSE(parse_fota_source("FTP://u:p@h/" + s51));
  const std::string http = "HTTP://h/";  // 9 bytes
  EXPECT_TRUE(parse_fota_source(http + std::string(255 - 9, 'p')));
  EXPECT_FALSE(parse_fota_source(http + std::string(256 - 9, 'p')));
  EXPECT_TRUE(parse_fota_source("UFS:" + std::string(124, 'f')));
  EXPECT_FALSE(parse_fota_source("UFS:" + std::string(125, 'f')));
  for (const char* port : {"0", "65536", "", "8x", "-1", "999999"})
    EXPECT_FALSE(parse_fota_source(std::string("HTTP://h:") + port + "/x")) << port;
  EXPECT_TRUE(parse_fota_source("HTTP://h:65535/x"));
}

TEST(FotaSource, SyntaxErrors) {
  for (const char* bad : {"", "  ", "UFS:", "UFS:a/b", "UFS:..", "RAM:x", "HTTPS://h/x", "FTP://h",
                          "FTP://h/", "FTP://h/dir/", "FTP://@h/x", "FTP://u:p@/x", "HTTP://u@h/x",
                          "HTTP://h h/x", "HTTP://h/x\ty", "FTP:/h/x", "http//h/x"}) {
    EXPECT_FALSE(parse_fota_source(bad)) << bad;
  }
}

TEST(FotaResultCodes, TheTableInTheReadme) {
  EXPECT_EQ(result_code(SourceKind::ftp, Failure::none), 0);
  EXPECT_EQ(result_code(SourceKind::http, Failure::none), 0);
  EXPECT_EQ(result_code(SourceKind::http, Failure::context_unconfigured), 708);
  EXPECT_EQ(result_code(SourceKind::http, Failure::context_inactive), 709);
  EXPECT_EQ(result_code(SourceKind::ftp, Failure::dns), 604);
  EXPECT_EQ(result_code(SourceKind::http, Failure::dns), 714);
  EXPECT_EQ(result_code(SourceKind::ftp, Failure::login), 625);
  EXPECT_EQ(result_code(SourceKind::ftp, Failure::timeout), 609);
  EXPECT_EQ(result_code(SourceKind::http, Failure::timeout), 702);
  EXPECT_EQ(result_code(SourceKind::ftp, Failure::other), 601);
  EXPECT_EQ(result_code(SourceKind::http, Failure::other), 701);
}

}  // namespace
}  // namespace vmodem::sim::fota
