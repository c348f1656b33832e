// Booting the real daemon: what a host sees on the AT port.
#include <fstream>

#include <gtest/gtest.h>

#include "e2e_support.hpp"
#include "process.hpp"

namespace vmodem::e2e {
namespace {

std::vector<std::string> urc_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t at = 0;
  while ((at = text.find("\r\n", at)) != std::string::npos) {
    const auto end = text.find("\r\n", at + 2);
    if (end == std::string::npos) break;
    if (end > at + 2) lines.push_back(text.substr(at + 2, end - at - 2));
    at = end;
  }
  return lines;
}

TEST(Boot, UrcsArriveInTheProfileOrder) {
  Daemon daemon;
  Host host(daemon.port("ttyUSB2"));
  ASSERT_TRUE(host.is_open()) << daemon.log();
  const auto seen = host.read_until_booted();
  // PB DONE (1.9 s after RDY) comes after APP RDY (1.5 s), in fast mode too.
  const std::vector<std::string> expected = {"RDY",           "+CFUN: 1",        "+CPIN: READY",
                                             "+QUSIM: 1",     "+QIND: SMS DONE", "APP RDY",
                                             "+QIND: PB DONE"};
  EXPECT_EQ(urc_lines(seen), expected) << seen;
  EXPECT_EQ(host.command("AT"), "AT\r\r\nOK\r\n") << "echo is on after boot";
}

TEST(Boot, StatusAndPortsThroughTheControlSocket) {
  Daemon daemon;
  ASSERT_TRUE(daemon.wait_booted()) << daemon.log();
  const auto status = daemon.ctl("status");
  EXPECT_EQ(status["model"], "BG95-M3");
  EXPECT_EQ(status["profile"], "bg95-m3");
  EXPECT_EQ(status["seed"], "11") << "a string: exact in every JSON parser";
  EXPECT_EQ(status["ports"]["at"]["link"], daemon.port("ttyUSB2").string());
  EXPECT_TRUE(std::filesystem::exists(daemon.state() / "nand.img"));
  EXPECT_TRUE(std::filesystem::exists(daemon.state() / "vmodem.log"));
}

TEST(Boot, OlderFirmwareNeverSaysAppRdy) {
  Daemon daemon({"--profile", "uc20"});
  Host host(daemon.port("ttyUSB2"));
  const auto seen = host.read_until("+QIND: PB DONE\r\n");
  EXPECT_NE(seen.find("RDY"), std::string::npos) << seen;
  EXPECT_EQ(host.read_for(100ms).find("APP RDY"), std::string::npos);
  EXPECT_NE(host.command("ATI").find("UC20"), std::string::npos);
}

TEST(Boot, AtTraceRecordsBothDirections) {
  Daemon daemon({"--at-trace"});
  Host host(daemon.port("ttyUSB2"));
  host.read_until_booted();
  host.command("AT+CSQ");
  std::ifstream in(daemon.state() / "at-trace.log");
  std::string trace((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(trace.find("at <- AT+CSQ\\x0d"), std::string::npos) << trace;
  EXPECT_NE(trace.find("at -> "), std::string::npos);
}

}  // namespace
}  // namespace vmodem::e2e

namespace vmodem::e2e {
namespace {

TEST(Boot, FactoryFilesFromADirectoryTheProfileNames) {
  vmodem::testing::TempDir dir;
  std::filesystem::create_directories(dir / "ufs" / "lwm2m");
  { std::ofstream(dir / "ufs" / "factory.cfg") << "apn=iot.example\n"; }
  { std::ofstream(dir / "ufs" / "lwm2m" / "server.json") << "{}"; }
  // The built-in profile, renamed, with the factory tree next to it
  // (relative paths are resolved against the profile file).
  auto doc = nlohmann::json::parse(std::ifstream(std::string(VMODEM_CONFIGS) + "/bg95-m3.json"));
  doc["factory"] = {{"ap_fs", "ufs"}};
  doc["fs"] = {{"max_name", 12}};
  { std::ofstream(dir / "mine.json") << doc.dump(); }
  Daemon daemon({"--profile", (dir / "mine.json").string()});
  Host host(daemon.port("ttyUSB2"));
  host.read_until_booted();
  host.command("ATE0");
  EXPECT_EQ(host.command("AT+QFLST=\"factory.cfg\""),
            "\r\n+QFLST: \"factory.cfg\",16\r\n\r\nOK\r\n");
  // The profile's file-system limits reach the running module.
  host.command("AT+CMEE=1");
  EXPECT_EQ(host.command("AT+QFUPL=\"name-too-long.bin\",10"), "\r\n+CME ERROR: 406\r\n");

  doc["factory"] = {{"ap_fs", "missing"}};
  { std::ofstream(dir / "bad.json") << doc.dump(); }
  const auto refused =
      vmodem::testing::run_shell(vmodem_binary() + " run --once --state " + (dir / "s2").string() +
                                 " --profile " + (dir / "bad.json").string() + " 2>&1");
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.out.find("factory.ap_fs"), std::string::npos) << refused.out;
}

}  // namespace
}  // namespace vmodem::e2e
