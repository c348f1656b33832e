// NV settings through the real daemon: whatever bytes a host sends in a
// setting are stored and returned byte for byte, across a restart; a
// settings file with wrong-typed values (written offline into the modem
// file system) boots with defaults, says so, and stays bootable after a
// backup holds it.
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "e2e_support.hpp"
#include "process.hpp"

namespace vmodem::e2e {
namespace {

using namespace std::string_literals;
using nlohmann::json;

constexpr const char* kSettingsPath = "/nv/vmodem/at_settings.json";

// Waits for APP RDY on the AT port and switches echo off.
std::unique_ptr<Host> ready_host(const Daemon& daemon) {
  auto host = std::make_unique<Host>(daemon.port("ttyUSB2"));
  EXPECT_NE(host->read_until_booted(10000ms).find("APP RDY"), std::string::npos) << daemon.log();
  host->command("ATE0");
  return host;
}

std::string ok_block(const std::string& line) {
  return "\r\n" + line + "\r\n\r\nOK\r\n";
}

void expect_stored_bytes(Host& host) {
  const std::string contexts = host.command("AT+CGDCONT?");
  EXPECT_NE(contexts.find("\r\n+CGDCONT: 1,\"IP\",\"\xFF\0x\",\"0.0.0.0\",0,0,0\r\n"s),
            std::string::npos)
      << contexts;
  EXPECT_NE(contexts.find("\r\n+CGDCONT: 2,\"IP\",\"\xFF\",\"0.0.0.0\",0,0,0\r\n"s),
            std::string::npos)
      << contexts;
  EXPECT_EQ(host.command("AT+QICSGP=1"), ok_block("+QICSGP: 1,\"\xFF\0x\",\"\x80\",\"\xC3\",1"s));
  EXPECT_EQ(host.command("AT+QICSGP=2"), ok_block("+QICSGP: 1,\"\xFF\",\"\",\"\",0"));
}

TEST(NvSettingsE2e, AnyBytesAHostSendsAreStoredAndSurviveARestart) {
  Daemon daemon;
  {
    auto host = ready_host(daemon);
    // Plain ASCII on the wire: \HH is the V.250 escape for one byte.
    EXPECT_EQ(host->command("AT+CGDCONT=2,\"IP\",\"\\FF\""), "\r\nOK\r\n") << daemon.log();
    EXPECT_EQ(host->command("AT+QICSGP=1,1,\"\\FF\\00x\",\"\\80\",\"\\C3\",1"), "\r\nOK\r\n")
        << daemon.log();
    expect_stored_bytes(*host);
  }
  EXPECT_EQ(daemon.ctl("status").value("power", ""), "app_rdy") << "the daemon is still serving";
  ASSERT_EQ(daemon.stop(), 0) << daemon.log();
  daemon.start();
  auto host = ready_host(daemon);
  expect_stored_bytes(*host);
}

TEST(NvSettingsE2e, QicsgpRefusesValuesLongerThanDocumented) {
  Daemon daemon;
  auto host = ready_host(daemon);
  const auto qicsgp = [&](std::size_t apn, std::size_t user, std::size_t password) {
    return host->command("AT+QICSGP=1,1,\"" + std::string(apn, 'a') + "\",\"" +
                         std::string(user, 'u') + "\",\"" + std::string(password, 'p') + "\",1");
  };
  EXPECT_EQ(qicsgp(100, 127, 127), "\r\nOK\r\n");
  EXPECT_EQ(qicsgp(101, 1, 1), "\r\nERROR\r\n");
  EXPECT_EQ(qicsgp(1, 128, 1), "\r\nERROR\r\n");
  EXPECT_EQ(qicsgp(1, 1, 128), "\r\nERROR\r\n");
  EXPECT_EQ(host->command("AT+CGDCONT=3,\"IP\",\"" + std::string(101, 'a') + "\""),
            "\r\nERROR\r\n");
  // The refused commands changed nothing.
  EXPECT_EQ(host->command("AT+QICSGP=1"),
            ok_block("+QICSGP: 1,\"" + std::string(100, 'a') + "\",\"" + std::string(127, 'u') +
                     "\",\"" + std::string(127, 'p') + "\",1"));
}

class BadSettingsFile : public ::testing::Test {
 protected:
  // Puts `text` into the modem file system of the stopped daemon's image.
  void put_settings(const std::string& text) {
    const auto file = daemon.state().parent_path() / "at_settings.json";
    std::ofstream(file, std::ios::binary) << text;
    const auto [code, out] = vmodem::testing::run_shell(
        vmodem_binary() + " image put " + (daemon.state() / "nand.img").string() + " modem " +
        file.string() + " " + kSettingsPath + " --parents 2>&1");
    ASSERT_EQ(code, 0) << out;
  }

  std::unique_ptr<Control> control() {
    std::unique_ptr<Control> c;
    for (int i = 0; i < 500 && !(c && c->connected()); ++i) {
      std::this_thread::sleep_for(10ms);
      c = std::make_unique<Control>(daemon.state() / "control.sock");
    }
    return c;
  }

  Daemon daemon;
};

TEST_F(BadSettingsFile, BootsWithDefaultsReportsEachFieldAndSurvivesABackup) {
  ready_host(daemon);
  ASSERT_EQ(daemon.stop(), 0) << daemon.log();
  put_settings(R"({"urcport": 1, "ctzu": "0", "cscs": "IRA", "qcfg/fota/cid": 99})");

  // Every boot reaches APP RDY; the bad fields read as their defaults, the
  // good one keeps its value.
  daemon.start();
  {
    auto host = ready_host(daemon);
    EXPECT_EQ(host->command("AT+QURCCFG=\"urcport\""), ok_block("+QURCCFG: \"urcport\",\"usbat\""));
    EXPECT_EQ(host->command("AT+CTZU?"), ok_block("+CTZU: 1"));
    EXPECT_EQ(host->command("AT+QCFG=\"fota/cid\""), ok_block("+QCFG: \"fota/cid\",1"));
    EXPECT_EQ(host->command("AT+CSCS?"), ok_block("+CSCS: \"IRA\""));
  }
  EXPECT_NE(daemon.log().find("NV setting \"urcport\""), std::string::npos) << daemon.log();

  // The event, to a subscriber, at the next power-on.
  auto ctl = control();
  ASSERT_TRUE(ctl && ctl->connected());
  ASSERT_TRUE(ctl->execute("subscribe").contains("return"));
  ASSERT_TRUE(ctl->execute("power-cut").contains("return"));
  ASSERT_TRUE(ctl->wait_event("POWER_STATE", "state", "off"));
  ctl->events.clear();
  ASSERT_TRUE(ctl->execute("power-on").contains("return"));
  ASSERT_TRUE(ctl->wait_event("POWER_STATE", "state", "app_rdy")) << daemon.log();
  std::map<std::string, json> reported;
  for (const auto& e : ctl->named("NV_SETTING_INVALID"))
    reported[e["data"].value("key", "")] = e["data"];
  ASSERT_EQ(reported.size(), 3U) << json(ctl->events).dump();
  EXPECT_EQ(reported["urcport"]["reason"], "expected a string, found number");
  EXPECT_EQ(reported["urcport"]["file"], kSettingsPath);
  EXPECT_TRUE(reported.contains("ctzu"));
  EXPECT_TRUE(reported.contains("qcfg/fota/cid"));

  // A backup now holds the bad file: it is still no brick.
  {
    auto host = ready_host(daemon);
    ASSERT_EQ(host->command("AT+QPRTPARA=1", 10000ms), "\r\nOK\r\n");
  }
  ctl.reset();
  ASSERT_EQ(daemon.stop(), 0) << daemon.log();
  daemon.start();
  auto host = ready_host(daemon);
  EXPECT_EQ(host->command("AT+QURCCFG=\"urcport\""), ok_block("+QURCCFG: \"urcport\",\"usbat\""));
  // A setting saved now replaces the bad value in the file.
  EXPECT_EQ(host->command("AT+QURCCFG=\"urcport\",\"usbmodem\""), "\r\nOK\r\n");
  EXPECT_EQ(host->command("AT+QURCCFG=\"urcport\""),
            ok_block("+QURCCFG: \"urcport\",\"usbmodem\""));
}

}  // namespace
}  // namespace vmodem::e2e
