// The SIM through the real binary: a PIN-locked card from the profile
// unlocked by a host over the PTY, and the card taken out and put back with
// `vmodem ctl sim-remove` / `sim-insert` while the host watches its URCs.
#include <fstream>

#include <gtest/gtest.h>

#include "e2e_support.hpp"

namespace vmodem::e2e {
namespace {

TEST(SimE2e, AHostUnlocksTheProfilesLockedCard) {
  vmodem::testing::TempDir dir;
  auto doc = nlohmann::json::parse(std::ifstream(std::string(VMODEM_CONFIGS) + "/bg95-m3.json"));
  doc["sim"] = {{"pin", "4321"}, {"pin_enabled", true}, {"msisdn", "+15550100"}};
  { std::ofstream(dir / "locked.json") << doc.dump(); }
  Daemon daemon({"--profile", (dir / "locked.json").string()});
  Host host(daemon.port("ttyUSB2"));
  const std::string boot = host.read_until("APP RDY\r\n");
  EXPECT_NE(boot.find("+CPIN: SIM PIN\r\n"), std::string::npos) << boot;
  EXPECT_EQ(boot.find("+QUSIM"), std::string::npos) << "only once the PIN is in: " << boot;
  host.command("ATE0");
  host.command("AT+CMEE=1");
  EXPECT_EQ(host.command("AT+CPIN?"), "\r\n+CPIN: SIM PIN\r\n\r\nOK\r\n");
  EXPECT_EQ(host.command("AT+CIMI"), "\r\n+CME ERROR: 11\r\n");
  EXPECT_EQ(host.command("AT+CREG?"), "\r\n+CREG: 0,0\r\n\r\nOK\r\n");
  EXPECT_EQ(daemon.ctl("status")["sim"], "pin_required");
  EXPECT_EQ(host.command("AT+CPIN=\"1234\""), "\r\n+CME ERROR: 16\r\n");
  EXPECT_EQ(host.command("AT+QPINC=\"SC\""), "\r\n+QPINC: \"SC\",2,10\r\n\r\nOK\r\n");
  EXPECT_EQ(host.command("AT+CPIN=\"4321\""), "\r\nOK\r\n");
  const std::string urcs = host.read_until("+QIND: PB DONE\r\n");
  EXPECT_NE(urcs.find("+CPIN: READY\r\n"), std::string::npos) << urcs;
  EXPECT_EQ(host.command("AT+CIMI"), "\r\n460011234567890\r\n\r\nOK\r\n");
  EXPECT_EQ(host.command("AT+CNUM"), "\r\n+CNUM: \"\",\"+15550100\",145\r\n\r\nOK\r\n");
  EXPECT_EQ(host.command("AT+CREG?"), "\r\n+CREG: 0,1\r\n\r\nOK\r\n");
  EXPECT_EQ(daemon.ctl("status")["sim"], "ready");
}

TEST(SimE2e, CtlTakesTheCardOutAndPutsItBack) {
  Daemon daemon;
  Host host(daemon.port("ttyUSB2"));
  host.read_until_booted();
  host.command("ATE0");
  host.command("AT+CMEE=1");
  EXPECT_EQ(host.command("AT+CEREG=1"), "\r\nOK\r\n");
  EXPECT_EQ(host.command("AT+QSIMSTAT=1"), "\r\nOK\r\n");
  EXPECT_EQ(host.command("AT+QIACT=1"), "\r\nOK\r\n");

  const auto removed = daemon.ctl("sim-remove");
  EXPECT_EQ(removed["sim"], "absent") << removed.dump();
  EXPECT_EQ(removed["changed"], true);
  EXPECT_EQ(host.read_until("+CEREG: 0\r\n"),
            "\r\n+QSIMSTAT: 1,0\r\n\r\n+CPIN: NOT READY\r\n\r\n+CEREG: 0\r\n");
  EXPECT_EQ(host.command("AT+CPIN?"), "\r\n+CME ERROR: 10\r\n");
  EXPECT_EQ(host.command("AT+QIACT?"), "\r\nOK\r\n") << "the context went with the network";
  EXPECT_EQ(daemon.ctl("status")["sim"], "absent");
  EXPECT_EQ(daemon.ctl("sim-remove")["changed"], false) << "already out";

  const auto inserted = daemon.ctl("sim-insert");
  EXPECT_EQ(inserted["sim"], "ready") << inserted.dump();
  const std::string back = host.read_until("+CEREG: 1\r\n");
  EXPECT_EQ(back.find("\r\n+QSIMSTAT: 1,1\r\n\r\n+CPIN: READY\r\n"), 0U) << back;
  EXPECT_EQ(host.command("AT+CPIN?"), "\r\n+CPIN: READY\r\n\r\nOK\r\n");
  EXPECT_EQ(host.command("AT+QIACT=1"), "\r\nOK\r\n");
}

}  // namespace
}  // namespace vmodem::e2e
