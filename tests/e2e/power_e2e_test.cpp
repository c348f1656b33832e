// Power: orderly power-down, power-on, reset, UART-style ports.
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "e2e_support.hpp"
#include "process.hpp"

namespace vmodem::e2e {
namespace {

TEST(Power, PowerDownThenPowerOnThroughTheControlSocket) {
  Daemon daemon;
  Host host(daemon.port("ttyUSB2"));
  host.read_until_booted();
  EXPECT_EQ(host.command("AT+QPOWD=1"), "AT+QPOWD=1\r\r\nOK\r\n");
  EXPECT_NE(host.read_until("POWERED DOWN\r\n").find("POWERED DOWN"), std::string::npos);
  EXPECT_TRUE(host.hung_up());
  EXPECT_TRUE(daemon.wait_power("off"));
  EXPECT_FALSE(std::filesystem::exists(daemon.port("ttyUSB2")))
      << "a powered-down module has no USB ports";
  ASSERT_FALSE(daemon.ctl("power-on").contains("error"));
  Host again(daemon.port("ttyUSB2"));
  EXPECT_NE(again.read_until_booted().find("RDY"), std::string::npos);
  EXPECT_EQ(daemon.ctl("power-on")["error"], 1) << "already on";
}

// A module that loses power inside a command says nothing more: not even the
// answer its handler makes of the NAND operation the cut struck. (Found by
// the soak: the host read ERROR from a module that was already off.)
TEST(Power, ACutInsideACommandLeavesItUnanswered) {
  Daemon daemon;
  Host host(daemon.port("ttyUSB2"));
  host.read_until_booted();
  ASSERT_EQ(host.command("ATE0"), "ATE0\r\r\nOK\r\n");
  host.write("AT+QFUPL=\"f.txt\",5,5\r");
  ASSERT_NE(host.read_until("CONNECT\r\n").find("CONNECT"), std::string::npos);
  host.write("hello");
  ASSERT_NE(host.read_until("OK\r\n").find("+QFUPL: 5,"), std::string::npos);
  ASSERT_FALSE(daemon.ctl("power-cut --after-operations 1").contains("error"));
  host.write("AT+QFDEL=\"f.txt\"\r");
  const auto said = host.read_until_hangup();
  ASSERT_TRUE(said.has_value()) << "the port never hung up";
  EXPECT_EQ(*said, "") << "a module without power answered";
  EXPECT_TRUE(daemon.wait_power("off"));
}

TEST(Power, ResetReenumeratesUsbButTheUartStays) {
  Daemon daemon({"--uart"});
  Host uart(daemon.port("ttyS0"));
  ASSERT_TRUE(uart.is_open());
  Host usb(daemon.port("ttyUSB2"));
  usb.read_until_booted();
  EXPECT_EQ(uart.command("AT"), "AT\r\r\nOK\r\n");
  const auto old_device = std::filesystem::read_symlink(daemon.port("ttyUSB2"));
  EXPECT_EQ(usb.command("AT+CFUN=1,1"), "AT+CFUN=1,1\r\r\nOK\r\n");
  EXPECT_TRUE(usb.hung_up());
  Host usb_again(daemon.port("ttyUSB2"));
  usb_again.read_until_booted();
  EXPECT_EQ(usb_again.command("AT"), "AT\r\r\nOK\r\n");
  EXPECT_EQ(uart.command("AT"), "AT\r\r\nOK\r\n") << "the same UART fd still works after the reset";
  EXPECT_EQ(daemon.ctl("status")["boots"], 2);
}

// URCs go to ttyUSB2 by default; AT+QURCCFG="urcport","uart1" sends them,
// the boot's and POWERED DOWN included, to the UART instead (kept in NV).
TEST(Power, TheUartGetsTheUrcsWhenUrcportNamesIt) {
  Daemon daemon({"--uart"});
  Host uart(daemon.port("ttyS0"));
  ASSERT_TRUE(uart.is_open());
  {
    Host usb(daemon.port("ttyUSB2"));
    ASSERT_NE(usb.read_until_booted().find("APP RDY"), std::string::npos)
        << "the default URC port is the USB AT port";
    EXPECT_EQ(usb.command("AT+QURCCFG=\"urcport\",\"uart1\""),
              "AT+QURCCFG=\"urcport\",\"uart1\"\r\r\nOK\r\n");
    EXPECT_EQ(usb.command("AT+CFUN=1,1"), "AT+CFUN=1,1\r\r\nOK\r\n");
  }
  const auto boot = uart.read_until_booted(10000ms);
  EXPECT_NE(boot.find("\r\nRDY\r\n"), std::string::npos) << boot;
  EXPECT_NE(boot.find("APP RDY"), std::string::npos) << boot;
  uart.write("AT+QPOWD=1\r");
  EXPECT_NE(uart.read_until("POWERED DOWN\r\n", 5000ms).find("POWERED DOWN"), std::string::npos);
}

TEST(Power, CommandsNeedingAppRdyFailBeforeIt) {
  Daemon daemon({"--real-time"});
  Host host(daemon.port("ttyUSB2"), std::chrono::milliseconds(8000));
  ASSERT_NE(host.read_until("RDY\r\n", 8000ms).find("RDY"), std::string::npos);
  // Between RDY and APP RDY (1.5 s on a BG95): the modem answers, the AP
  // file system does not yet.
  EXPECT_EQ(host.command("AT"), "AT\r\r\nOK\r\n");
  EXPECT_EQ(host.command("AT+QFLDS=\"UFS\""), "AT+QFLDS=\"UFS\"\r\r\nERROR\r\n");
  EXPECT_NE(host.read_until_booted(5000ms).find("APP RDY"), std::string::npos);
  EXPECT_NE(host.command("AT+QFLDS=\"UFS\"").find("+QFLDS:"), std::string::npos);
}

TEST(Power, EventsReportPowerStates) {
  Daemon daemon;
  ASSERT_TRUE(daemon.wait_booted());
  const auto stats = daemon.ctl("stats");
  EXPECT_GT(stats["counters"]["programs"].get<int>(), 0)
      << "the first boot formatted and filled the file systems";
  EXPECT_GT(stats["ap_fs"]["pages_in_use"].get<int>(), 0);
}

// `ctl stats` (running) and `image stats --json` (at rest) have one layout:
// a script reads both the same way.
TEST(Power, StatsOfTheRunningModuleAndOfTheImageAgree) {
  Daemon daemon;
  ASSERT_TRUE(daemon.wait_booted());
  const auto running = daemon.ctl("stats");
  ASSERT_EQ(daemon.stop(), 0);
  const auto at_rest = vmodem::testing::run_shell(
      vmodem_binary() + " image stats " + (daemon.state() / "nand.img").string() + " --json");
  ASSERT_EQ(at_rest.exit_code, 0) << at_rest.out;
  const auto image = nlohmann::json::parse(at_rest.out);
  const auto keys = [](const nlohmann::json& object) {
    std::set<std::string> names;
    for (const auto& [key, value] : object.items())
      names.insert(key);
    return names;
  };
  auto module_keys = keys(running);
  module_keys.erase("modem_fs");
  module_keys.erase("ap_fs");
  EXPECT_EQ(module_keys, keys(image));
  EXPECT_EQ(keys(running["counters"]), keys(image["counters"]));
  ASSERT_FALSE(running["partitions"].empty());
  EXPECT_EQ(keys(running["partitions"][0]), keys(image["partitions"][0]));
  EXPECT_EQ(running["partitions"].size(), image["partitions"].size());
  EXPECT_GE(image["counters"]["programs"], running["counters"]["programs"]);
}

}  // namespace
}  // namespace vmodem::e2e
