// File upload and download through data mode, as host software moves a
// certificate or a FOTA package onto the module.
#include <thread>

#include <gtest/gtest.h>

#include "e2e_support.hpp"

namespace vmodem::e2e {
namespace {

std::string payload(std::size_t size) {
  std::string data(size, '\0');
  std::uint32_t x = 12345;
  for (auto& c : data) {
    x = x * 1103515245 + 12345;
    c = static_cast<char>(x >> 16);  // binary, NULs and CRs included
  }
  return data;
}

struct Files : ::testing::Test {
  Files() : host(daemon.port("ttyUSB2")) {
    host.read_until_booted();
    host.command("ATE0");
  }
  // Uploads `data` as `name`; returns the final response.
  std::string upload(const std::string& name, const std::string& data,
                     const std::string& extra = "", const std::string& padding = "") {
    host.write("AT+QFUPL=\"" + name + "\"," + std::to_string(data.size()) + extra + "\r");
    const auto connect = host.read_until("CONNECT\r\n");
    if (connect.find("CONNECT") == std::string::npos) return connect;
    host.write(data + padding);
    return host.read_until("OK\r\n", 5000ms);
  }
  Daemon daemon;
  Host host;
};

TEST_F(Files, UploadListDownloadDelete) {
  const auto data = payload(100 * 1024 + 7);
  EXPECT_EQ(upload("cert.pem", data), "\r\n+QFUPL: " + std::to_string(data.size()) + "," +
                                          quectel_checksum(data) + "\r\n\r\nOK\r\n");
  EXPECT_EQ(host.command("AT+QFLST=\"cert.pem\""),
            "\r\n+QFLST: \"cert.pem\"," + std::to_string(data.size()) + "\r\n\r\nOK\r\n");
  const auto free_total = host.command("AT+QFLDS=\"UFS\"");
  EXPECT_EQ(free_total.find("+QFLDS: "), 2U) << free_total;

  host.write("AT+QFDWL=\"cert.pem\"\r");
  const auto down = host.read_until("OK\r\n", 5000ms);
  const auto start = down.find("CONNECT\r\n");
  ASSERT_NE(start, std::string::npos) << down.substr(0, 100);
  const std::string body = down.substr(start + 9, data.size());
  EXPECT_TRUE(body == data) << "downloaded bytes differ";
  EXPECT_NE(down.find("+QFDWL: " + std::to_string(data.size()) + "," + quectel_checksum(data)),
            std::string::npos);

  EXPECT_EQ(host.command("AT+QFDEL=\"cert.pem\""), "\r\nOK\r\n");
  EXPECT_NE(host.command("AT+QFLST=\"cert.pem\"").find("ERROR"), std::string::npos);
}

TEST_F(Files, AckModeAndTrailingPadding) {
  const auto data = payload(4096);
  host.write("AT+QFUPL=\"acked.bin\",4096,5,1\r");
  ASSERT_NE(host.read_until("CONNECT\r\n").find("CONNECT"), std::string::npos);
  std::string acks;
  for (int i = 0; i < 4; ++i) {
    host.write(data.substr(static_cast<std::size_t>(i) * 1024, 1024));
    acks += host.read_until("A", 2000ms);
  }
  EXPECT_EQ(acks, "AAAA") << "one A per 1024 bytes";
  EXPECT_NE(host.read_until("OK\r\n").find("+QFUPL: 4096," + quectel_checksum(data)),
            std::string::npos);

  const auto small = payload(300);
  EXPECT_EQ(upload("padded.bin", small, "", std::string(64, '\x1a')),
            "\r\n+QFUPL: 300," + quectel_checksum(small) + "\r\n\r\nOK\r\n");
  EXPECT_EQ(host.command("AT+QFLST=\"padded.bin\""),
            "\r\n+QFLST: \"padded.bin\",300\r\n\r\nOK\r\n");
}

TEST_F(Files, NamesCannotEscapeTheFileSystem) {
  host.command("AT+CMEE=1");
  for (const char* bad : {"../etc/passwd", "/abs", "a/b", ".."}) {
    EXPECT_EQ(host.command(std::string("AT+QFUPL=\"") + bad + "\",10"), "\r\n+CME ERROR: 406\r\n")
        << bad;
  }
}

TEST_F(Files, FilesSurviveADaemonRestartAndAKill) {
  const auto data = payload(5000);
  ASSERT_NE(upload("keep.bin", data).find("OK"), std::string::npos);
  daemon.stop();
  daemon.start();
  {
    Host again(daemon.port("ttyUSB2"));
    again.read_until_booted();
    EXPECT_NE(again.command("AT+QFLST=\"keep.bin\"").find("\"keep.bin\",5000"), std::string::npos);
    again.write("AT+QFUPL=\"second.bin\",100\r");
    again.read_until("CONNECT\r\n");
    again.write(payload(100));
    again.read_until("OK\r\n");
  }
  daemon.kill_hard();  // no orderly shutdown: like pulling the plug
  daemon.start();
  Host third(daemon.port("ttyUSB2"));
  third.read_until_booted();
  EXPECT_NE(third.command("AT+QFLST").find("\"second.bin\",100"), std::string::npos)
      << daemon.log();
}

TEST_F(Files, PowerCutDuringAnUploadLeavesNoPartialFile) {
  const auto data = payload(64 * 1024);
  host.write("AT+QFUPL=\"cut.bin\"," + std::to_string(data.size()) + "\r");
  ASSERT_NE(host.read_until("CONNECT\r\n").find("CONNECT"), std::string::npos);
  host.write(data.substr(0, 30 * 1024));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(daemon.ctl("power-cut")["cut"], true);
  EXPECT_TRUE(host.hung_up());
  ASSERT_FALSE(daemon.ctl("power-on").contains("error"));
  Host again(daemon.port("ttyUSB2"));
  again.read_until_booted();
  const auto listing = again.command("AT+QFLST=\"cut.bin\"");
  EXPECT_EQ(listing.find("+QFLST:"), std::string::npos)
      << "an interrupted upload leaves no file: " << listing;
}

TEST_F(Files, PowerCutAtANandOperationDuringAnUpload) {
  // Arm the cut at the 5th program in the AP file system's partition, then
  // upload: the cut strikes mid-write, wherever the file system is.
  const auto armed =
      daemon.ctl("power-cut --partition usrfs --op program --nth 5 --mode torn_partial");
  ASSERT_TRUE(armed.contains("armed")) << armed.dump();
  const auto data = payload(40 * 1024);
  host.write("AT+QFUPL=\"torn.bin\"," + std::to_string(data.size()) + "\r");
  host.read_until("CONNECT\r\n");
  host.write(data);
  EXPECT_TRUE(host.hung_up(3000ms));
  ASSERT_TRUE(daemon.wait_power("off"));
  ASSERT_FALSE(daemon.ctl("power-on").contains("error"));
  Host again(daemon.port("ttyUSB2"));
  EXPECT_NE(again.read_until_booted().find("APP RDY"), std::string::npos) << daemon.log();
  const auto listing = again.command("AT+QFLST=\"torn.bin\"");
  const bool absent = listing.find("+QFLST:") == std::string::npos;
  const bool complete =
      listing.find("\"torn.bin\"," + std::to_string(data.size())) != std::string::npos;
  EXPECT_TRUE(absent || complete) << listing;
}

}  // namespace
}  // namespace vmodem::e2e
