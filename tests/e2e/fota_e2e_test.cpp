// AT+QFOTADL end to end: the real vmodem binary fetching delta packages from
// real servers on loopback (pyftpdlib, nginx, and a script for servers that
// misbehave), as host software drives a firmware update: syntax, the PDP
// context, each failure class with the DFOTA guide's code, and the URCs.
#include <cstdlib>
#include <fstream>
#include <regex>
#include <thread>

#include <gtest/gtest.h>

#include "e2e_support.hpp"
#include "fota_servers.hpp"

namespace vmodem::e2e {
namespace {

// The module's download timeout (default 90 s) for every daemon started
// here, so the timeout cases take about a second.
constexpr int kTimeoutMs = 1200;
const bool kTimeoutSet = [] {
  return ::setenv("VMODEM_FOTA_TIMEOUT_MS", std::to_string(kTimeoutMs).c_str(), 1) == 0;
}();

// The BG95-M3 FOTA area: 80 blocks of 64 x 2 KiB pages.
constexpr std::size_t kFotaAreaBytes = 80u * 64 * 2048;

std::string payload(std::size_t size, std::uint32_t seed = 7) {
  std::string data(size, '\0');
  for (auto& c : data) {
    seed = seed * 1103515245 + 12345;
    c = static_cast<char>(seed >> 16);
  }
  return data;
}

void write_file(const std::filesystem::path& path, const std::string& data) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << data;
}

struct FotaDl : ::testing::Test {
  FotaDl() : host(daemon.port("ttyUSB2")) {
    EXPECT_TRUE(kTimeoutSet);
    host.read_until_booted();
    host.command("ATE0");
    EXPECT_EQ(host.command("AT+QIACT=1"), "\r\nOK\r\n");
  }

  // Sends AT+QFOTADL="<argument>" and returns its response.
  std::string fotadl(const std::string& argument) {
    return host.command("AT+QFOTADL=\"" + argument + "\"");
  }
  // Waits for +QIND: "FOTA","<what>",<n> and returns n (-1 if it never came).
  int code_of(const std::string& what, std::chrono::milliseconds timeout = 8000ms) {
    const std::string prefix = "+QIND: \"FOTA\",\"" + what + "\",";
    seen += host.read_until(prefix, timeout);
    if (!seen.ends_with(prefix)) return -1;
    const std::string number = host.read_until("\r\n", 2000ms);
    seen += number;
    return std::atoi(number.c_str());
  }
  // The download's <ftp_err>/<http_err> after START was announced.
  int download(const std::string& url, bool ftp) {
    const auto answer = fotadl(url);
    EXPECT_EQ(answer, "\r\nOK\r\n") << url;
    if (answer != "\r\nOK\r\n") return -1;
    const std::string start =
        ftp ? "+QIND: \"FOTA\",\"FTPSTART\"\r\n" : "+QIND: \"FOTA\",\"HTTPSTART\"\r\n";
    seen = host.read_until(start, 8000ms);
    EXPECT_TRUE(seen.ends_with(start)) << seen;
    return code_of(ftp ? "FTPEND" : "HTTPEND");
  }
  // Everything after the last report: no further FOTA URC may follow.
  std::string quiet_after(std::chrono::milliseconds window = 300ms) {
    return host.read_for(window);
  }

  Daemon daemon;
  Host host;
  std::string seen;  // what arrived while waiting for URCs
  vmodem::testing::TempDir files;
};

std::string ftp_url(const FtpServer& server, const std::string& path,
                    const std::string& login = "fota:secret") {
  return "FTP://" + login + "@127.0.0.1:" + std::to_string(server.port()) + "/" + path;
}

std::string http_url(std::uint16_t port, const std::string& path) {
  return "HTTP://127.0.0.1:" + std::to_string(port) + "/" + path;
}

#define SKIP_IF_UNAVAILABLE(server) \
  if (!(server).unavailable().empty()) GTEST_SKIP() << (server).unavailable()

TEST_F(FotaDl, TestFormAndSyntaxErrorsAnswerErrorAtOnce) {
  EXPECT_EQ(host.command("AT+QFOTADL=?"), "\r\nOK\r\n");
  const std::string s50(50, 'a'), s51(51, 'a');
  const std::vector<std::string> refused = {
      "AT+QFOTADL",
      "AT+QFOTADL?",
      "AT+QFOTADL=\"\"",
      "AT+QFOTADL=\"   \"",
      "AT+QFOTADL=\"UFS:delta.bin\",1",
      "AT+QFOTADL=\"UFS:" + std::string(125, 'd') + "\"",  // 129 bytes
      "AT+QFOTADL=\"UFS:dir/delta.bin\"",
      "AT+QFOTADL=\"RAM:delta.bin\"",
      "AT+QFOTADL=\"HTTPS://127.0.0.1/delta.bin\"",
      "AT+QFOTADL=\"FTP://u:p@127.0.0.1:0/delta.bin\"",
      "AT+QFOTADL=\"FTP://u:p@127.0.0.1:65536/delta.bin\"",
      "AT+QFOTADL=\"FTP://u:p@127.0.0.1:/delta.bin\"",
      "AT+QFOTADL=\"FTP://u:p@127.0.0.1:21/\"",
      "AT+QFOTADL=\"FTP://u:p@127.0.0.1:21\"",
      "AT+QFOTADL=\"FTP://" + s51 + ":p@127.0.0.1/delta.bin\"",
      "AT+QFOTADL=\"FTP://u:" + s51 + "@127.0.0.1/delta.bin\"",
      "AT+QFOTADL=\"FTP://u:p@" + s51 + "/delta.bin\"",
      "AT+QFOTADL=\"FTP://u:p@127.0.0.1/" + s51 + "\"",
      "AT+QFOTADL=\"FTP://u:p@bad host/delta.bin\"",
      "AT+QFOTADL=\"HTTP://u@127.0.0.1/delta.bin\"",
      "AT+QFOTADL=\"HTTP://127.0.0.1/" + std::string(255 - 17 + 1, 'p') + "\"",  // 256 bytes
  };
  for (const auto& line : refused)
    EXPECT_EQ(host.command(line), "\r\nERROR\r\n") << line;
  EXPECT_EQ(quiet_after().find("FOTA"), std::string::npos) << "nothing may start";

  // The limits themselves are accepted: with the context deactivated each
  // ends at once with the network code instead of a syntax ERROR.
  ASSERT_EQ(host.command("AT+QIDEACT=1"), "\r\nOK\r\n");
  EXPECT_EQ(
      download("FTP://" + s50 + ":" + s50 + "@" + std::string(46, 'h') + ".com:65535/" + s50, true),
      605);
  EXPECT_EQ(download(" http://127.0.0.1/" + std::string(255 - 18, 'p') + " ", false), 709)
      << "spaces around the URL and a lower-case scheme are accepted (the guide's example)";
  EXPECT_EQ(download("ftp://127.0.0.1/delta.bin", true), 605) << "no user: anonymous";
}

TEST_F(FotaDl, ContextMustBeConfiguredAndActive) {
  EXPECT_EQ(host.command("AT+QCFG=\"fota/cid\""), "\r\n+QCFG: \"fota/cid\",1\r\n\r\nOK\r\n");
  EXPECT_EQ(host.command("AT+QCFG=\"fota/cid\",17"), "\r\nERROR\r\n");
  EXPECT_EQ(host.command("AT+QCFG=\"fota/cid\",5"), "\r\nOK\r\n");
  EXPECT_EQ(download("FTP://u:p@127.0.0.1:21/delta.bin", true), 610) << "context 5 undefined";
  EXPECT_EQ(download("HTTP://127.0.0.1:80/delta.bin", false), 708);

  EXPECT_EQ(host.command("AT+QICSGP=5,1,\"UNINET\",\"\",\"\",1"), "\r\nOK\r\n");
  EXPECT_EQ(host.command("AT+QICSGP=5"), "\r\n+QICSGP: 1,\"UNINET\",\"\",\"\",1\r\n\r\nOK\r\n");
  EXPECT_EQ(download("FTP://u:p@127.0.0.1:21/delta.bin", true), 605) << "defined, not active";
  EXPECT_EQ(download("HTTP://127.0.0.1:80/delta.bin", false), 709);
  EXPECT_EQ(quiet_after().find("\"END\""), std::string::npos) << "a download error has no END";

  // fota/cid and the context are NV settings: they survive a reset.
  EXPECT_EQ(host.command("AT+CFUN=1,1"), "\r\nOK\r\n");
  ASSERT_TRUE(host.hung_up());
  Host after(daemon.port("ttyUSB2"));
  after.read_until_booted();
  EXPECT_NE(after.command("AT+QCFG=\"fota/cid\"").find("+QCFG: \"fota/cid\",5"), std::string::npos);
  EXPECT_NE(after.command("AT+QICSGP=5").find("+QICSGP: 1,\"UNINET\""), std::string::npos);
}

TEST_F(FotaDl, FtpDownloadReachesStaging) {
  const std::string version = host.command("AT+CGMR");
  const std::string package = payload(300 * 1024 + 5);
  write_file(files.path() / "update" / "delta.bin", package);
  FtpServer server(files.path(), "fota", "secret");
  SKIP_IF_UNAVAILABLE(server);
  EXPECT_EQ(download(ftp_url(server, "update/delta.bin"), true), 0) << server.log();
  // The module got every byte (it logs the size and the QFUPL checksum).
  const std::string got = "downloaded " + std::to_string(package.size()) + " bytes, checksum " +
                          quectel_checksum(package);
  // Logged just before HTTPEND; the line reaches the captured output through
  // another stream, so wait for it (bounded) rather than a fixed delay.
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  while (daemon.log().find(got) == std::string::npos && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  EXPECT_NE(daemon.log().find(got), std::string::npos) << daemon.log();
  EXPECT_EQ(daemon.log().find("secret"), std::string::npos) << "the password is not logged";
  // Staged: the module resets to apply it. These bytes are no package, so
  // the update ends with an error code and the old firmware boots.
  ASSERT_TRUE(host.hung_up(5000ms));
  Host after(daemon.port("ttyUSB2"), 10000ms);
  const std::string boot = after.read_until_booted(20000ms);
  EXPECT_NE(boot.find("+QIND: \"FOTA\",\"END\",5"), std::string::npos) << boot;
  after.command("ATE0");
  EXPECT_EQ(after.command("AT+CGMR"), version);
}

TEST_F(FotaDl, HttpDownloadReachesStaging) {
  const std::string package = payload(200 * 1024 + 1, 9);
  write_file(files.path() / "fw" / "delta.bin", package);
  HttpServer server(files.path());
  SKIP_IF_UNAVAILABLE(server);
  EXPECT_EQ(download(http_url(server.port(), "fw/delta.bin"), false), 0) << server.log();
  const std::string got = "downloaded " + std::to_string(package.size()) + " bytes, checksum " +
                          quectel_checksum(package);
  // Logged just before HTTPEND; the line reaches the captured output through
  // another stream, so wait for it (bounded) rather than a fixed delay.
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  while (daemon.log().find(got) == std::string::npos && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  EXPECT_NE(daemon.log().find(got), std::string::npos) << daemon.log();
}

TEST_F(FotaDl, ConnectionRefused) {
  const std::uint16_t port = free_port();  // nothing listens there
  EXPECT_EQ(download("FTP://u:p@127.0.0.1:" + std::to_string(port) + "/delta.bin", true), 605);
  EXPECT_EQ(download(http_url(port, "delta.bin"), false), 716);
  EXPECT_EQ(quiet_after().find("FOTA"), std::string::npos) << "the old firmware keeps running";
  EXPECT_EQ(host.command("AT"), "\r\nOK\r\n");
}

TEST_F(FotaDl, DnsFailure) {
  EXPECT_EQ(download("FTP://u:p@nonexistent.invalid:21/delta.bin", true), 604);
  EXPECT_EQ(download("HTTP://nonexistent.invalid/delta.bin", false), 714);
}

TEST_F(FotaDl, FtpLoginFailureAndMissingFiles) {
  write_file(files.path() / "delta.bin", payload(1000));
  FtpServer server(files.path(), "fota", "secret");
  SKIP_IF_UNAVAILABLE(server);
  EXPECT_EQ(download(ftp_url(server, "delta.bin", "fota:wrong"), true), 625);
  EXPECT_EQ(download(ftp_url(server, "missing.bin"), true), 627);
  EXPECT_EQ(download(ftp_url(server, "nodir/delta.bin"), true), 627);
}

TEST_F(FotaDl, HttpMissingFile) {
  HttpServer server(files.path());
  SKIP_IF_UNAVAILABLE(server);
  EXPECT_EQ(download(http_url(server.port(), "missing.bin"), false), 723);
}

TEST_F(FotaDl, ServerThatNeverAnswersTimesOut) {
  ScriptServer server("silent");
  SKIP_IF_UNAVAILABLE(server);
  const std::string port = std::to_string(server.port());
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(download("FTP://u:p@127.0.0.1:" + port + "/delta.bin", true), 609);
  EXPECT_EQ(download(http_url(server.port(), "delta.bin"), false), 702);
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_GE(took, 2 * std::chrono::milliseconds(kTimeoutMs));
  EXPECT_LT(took, 2 * std::chrono::milliseconds(kTimeoutMs) + 6s);
}

// The daemons of FotaDeadline get a short overall deadline and an inactivity
// timeout beyond it, so only the deadline can end a steady trickle.
constexpr int kDeadlineMs = 3000;
struct DeadlineEnvironment {
  DeadlineEnvironment() {
    ::setenv("VMODEM_FOTA_DEADLINE_MS", std::to_string(kDeadlineMs).c_str(), 1);
    ::setenv("VMODEM_FOTA_TIMEOUT_MS", "20000", 1);
  }
  ~DeadlineEnvironment() {
    ::unsetenv("VMODEM_FOTA_DEADLINE_MS");
    ::setenv("VMODEM_FOTA_TIMEOUT_MS", std::to_string(kTimeoutMs).c_str(), 1);
  }
};
// Bases are constructed in order: the environment is set before FotaDl
// starts its daemon.
struct FotaDeadline : DeadlineEnvironment, FotaDl {};

TEST_F(FotaDeadline, ServerTricklingBytesIsCutAtTheDeadline) {
  // 100,000 bytes, one every 300 ms: the inactivity timeout never fires.
  ScriptServer server("http-trickle", {"100000", "300"});
  SKIP_IF_UNAVAILABLE(server);
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(download(http_url(server.port(), "delta.bin"), false), 702) << server.log();
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_GE(took, std::chrono::milliseconds(kDeadlineMs));
  EXPECT_LT(took, std::chrono::milliseconds(kDeadlineMs) + 5s);
  EXPECT_NE(daemon.log().find("Operation timed out after"), std::string::npos) << daemon.log();
  EXPECT_EQ(host.command("AT"), "\r\nOK\r\n") << "the module carries on";
}

TEST_F(FotaDl, ServerClosingMidTransfer) {
  ScriptServer ftp("ftp-close-mid", {"100000"});
  ScriptServer http("http-close-mid", {"100000"});
  SKIP_IF_UNAVAILABLE(ftp);
  EXPECT_EQ(download("FTP://u:p@127.0.0.1:" + std::to_string(ftp.port()) + "/delta.bin", true), 607)
      << ftp.log();
  EXPECT_EQ(download(http_url(http.port(), "delta.bin"), false), 719) << http.log();
}

// The FTP server's own reply codes, one row of README's table each: the
// reply the server ends with, and at what point of the dialogue.
TEST_F(FotaDl, FtpServerRepliesHaveTheirCodes) {
  struct Row {
    std::vector<std::string> server;  // fota_test_server.py mode and arguments
    int ftp_err;
  };
  const Row rows[] = {
      {{"ftp-reply", "hangup"}, 606},           // hung up without answering
      {{"ftp-reply", "greeting", "421"}, 614},  // service not available
      {{"ftp-reply", "retr", "425"}, 615},      // can't open data connection
      {{"ftp-reply", "abort", "426"}, 616},     // transfer aborted
      {{"ftp-reply", "retr", "451"}, 618},      // local error in processing
      {{"ftp-reply", "retr", "552"}, 629},      // exceeded storage allocation
  };
  for (const auto& row : rows) {
    ScriptServer server(row.server.front(), {row.server.begin() + 1, row.server.end()});
    SKIP_IF_UNAVAILABLE(server);
    const std::string url = "FTP://u:p@127.0.0.1:" + std::to_string(server.port()) + "/delta.bin";
    EXPECT_EQ(download(url, true), row.ftp_err) << row.server[1] << "\n" << server.log();
    EXPECT_EQ(quiet_after(50ms).find("FOTA"), std::string::npos) << "nothing after the FTPEND";
  }
  EXPECT_EQ(host.command("AT"), "\r\nOK\r\n") << "the old firmware keeps running";
}

TEST_F(FotaDl, ConnectionResetWhileReceiving) {
  ScriptServer ftp("ftp-reply", {"reset"});
  ScriptServer http("http-reset-mid", {"100000"});
  SKIP_IF_UNAVAILABLE(ftp);
  EXPECT_EQ(download("FTP://u:p@127.0.0.1:" + std::to_string(ftp.port()) + "/delta.bin", true), 608)
      << ftp.log();
  EXPECT_EQ(download(http_url(http.port(), "delta.bin"), false), 717) << http.log();
}

TEST_F(FotaDl, PackageLargerThanTheFotaAreaStopsEarlyWith511) {
  // Sparse: the servers announce the size, the module stops before reading it.
  std::filesystem::create_directories(files.path());
  std::filesystem::resize_file(
      (std::ofstream(files.path() / "huge.bin"), files.path() / "huge.bin"), kFotaAreaBytes + 1);
  HttpServer http(files.path());
  FtpServer ftp(files.path(), "fota", "secret");
  SKIP_IF_UNAVAILABLE(http);
  EXPECT_EQ(download(http_url(http.port(), "huge.bin"), false), 729);
  EXPECT_EQ(code_of("END"), 511);
  SKIP_IF_UNAVAILABLE(ftp);
  EXPECT_EQ(download(ftp_url(ftp, "huge.bin"), true), 619);
  EXPECT_EQ(code_of("END"), 511);
  EXPECT_NE(daemon.log().find("larger than"), std::string::npos);
}

TEST_F(FotaDl, StagingRefusalIsReportedWithEnd) {
  // Not larger than the FOTA partition, so it downloads; but the area keeps
  // blocks for its journal and header, so staging refuses it with 511.
  std::filesystem::create_directories(files.path());
  std::filesystem::resize_file(
      (std::ofstream(files.path() / "full.bin"), files.path() / "full.bin"), kFotaAreaBytes);
  HttpServer http(files.path());
  SKIP_IF_UNAVAILABLE(http);
  const std::string version = host.command("AT+CGMR");
  EXPECT_EQ(download(http_url(http.port(), "full.bin"), false), 0);
  EXPECT_EQ(code_of("END"), 511);
  EXPECT_EQ(host.command("AT+CGMR"), version) << "no reset, the old firmware runs";
}

TEST_F(FotaDl, AtPortStaysResponsiveAndOneDownloadAtATime) {
  ScriptServer server("silent");
  SKIP_IF_UNAVAILABLE(server);
  const std::string url = http_url(server.port(), "delta.bin");
  ASSERT_EQ(fotadl(url), "\r\nOK\r\n");
  EXPECT_NE(host.read_until("\"HTTPSTART\"\r\n").find("HTTPSTART"), std::string::npos);
  const auto before = std::chrono::steady_clock::now();
  EXPECT_EQ(host.command("AT+CGMR").find("OK"), host.command("AT+CGMR").find("OK"));
  EXPECT_EQ(host.command("AT"), "\r\nOK\r\n");
  EXPECT_LT(std::chrono::steady_clock::now() - before, 1s) << "the download does not block AT";
  EXPECT_EQ(fotadl(url), "\r\nERROR\r\n") << "a second download while one runs";
  EXPECT_EQ(code_of("HTTPEND"), 702);
}

TEST_F(FotaDl, PowerCutDuringDownloadLeavesNoStaleUrc) {
  ScriptServer server("silent");
  SKIP_IF_UNAVAILABLE(server);
  const std::string version = host.command("AT+CGMR");
  const std::string url = http_url(server.port(), "delta.bin");
  ASSERT_EQ(fotadl(url), "\r\nOK\r\n");
  EXPECT_NE(host.read_until("\"HTTPSTART\"\r\n").find("HTTPSTART"), std::string::npos);
  EXPECT_FALSE(daemon.ctl("power-cut").contains("error"));
  ASSERT_TRUE(daemon.wait_power("off"));
  EXPECT_FALSE(daemon.ctl("power-on").contains("error"));
  Host after(daemon.port("ttyUSB2"));
  const auto boot = after.read_until_booted();
  ASSERT_NE(boot.find("APP RDY"), std::string::npos);
  // Longer than the download's timeout: the cancelled one says nothing.
  const auto later = after.read_for(std::chrono::milliseconds(kTimeoutMs + 800));
  EXPECT_EQ(later.find("FOTA"), std::string::npos) << later;
  // The firmware is the old one and a new download can start.
  after.command("ATE0");
  EXPECT_EQ(after.command("AT+CGMR"), version);
  EXPECT_EQ(after.command("AT+QIACT=1"), "\r\nOK\r\n");
  EXPECT_EQ(after.command("AT+QFOTADL=\"" + url + "\""), "\r\nOK\r\n");
  EXPECT_NE(after.read_until("\"HTTPEND\",702\r\n", 8000ms).find("HTTPEND\",702"),
            std::string::npos);
}

TEST_F(FotaDl, UfsPackageUploadedWithQfupl) {
  EXPECT_EQ(host.command("AT+CMEE=1"), "\r\nOK\r\n");
  EXPECT_EQ(host.command("AT+QFOTADL=\"UFS:missing.bin\""), "\r\n+CME ERROR: 405\r\n");
  EXPECT_EQ(host.command("AT+QFOTADL=\"missing.bin\""), "\r\n+CME ERROR: 405\r\n");

  const std::string package = payload(5000, 3);
  host.write("AT+QFUPL=\"delta.bin\"," + std::to_string(package.size()) + "\r");
  ASSERT_NE(host.read_until("CONNECT\r\n").find("CONNECT"), std::string::npos);
  host.write(package);
  ASSERT_NE(host.read_until("OK\r\n", 5000ms).find("+QFUPL: 5000"), std::string::npos);
  EXPECT_EQ(host.command("AT+QFOTADL=\"UFS:delta.bin\""), "\r\nOK\r\n");
  std::this_thread::sleep_for(200ms);
  EXPECT_NE(daemon.log().find("package UFS:delta.bin (5000 bytes"), std::string::npos)
      << daemon.log();
}

}  // namespace
}  // namespace vmodem::e2e
