// The V.250 behaviour host stacks rely on, through the real PTY.
#include <gtest/gtest.h>

#include "e2e_support.hpp"

namespace vmodem::e2e {
namespace {

struct AtPort : ::testing::Test {
  AtPort() : host(daemon.port("ttyUSB2")) { host.read_until_booted(); }
  Daemon daemon;
  Host host;
};

TEST_F(AtPort, EchoOffAndOn) {
  EXPECT_EQ(host.command("ATE0"), "ATE0\r\r\nOK\r\n");
  EXPECT_EQ(host.command("AT"), "\r\nOK\r\n");
  EXPECT_EQ(host.command("ATE1"), "\r\nOK\r\n");
  EXPECT_EQ(host.command("AT"), "AT\r\r\nOK\r\n");
}

TEST_F(AtPort, NumericAndQuietResultCodes) {
  host.command("ATE0");
  EXPECT_EQ(host.command("ATV0"), "0\r");
  EXPECT_EQ(host.command("AT+FOO"), "4\r");
  host.command("ATV1");
  // Quiet: no result codes, information text still. What follows ATQ1 is
  // +CSQ's text with no OK before it, and no OK after it either (the next
  // answer is ATQ0's alone).
  host.write("ATQ1\r");
  host.write("AT+CSQ\r");
  EXPECT_EQ(host.read_until("+CSQ: 24,99\r\n"), "\r\n+CSQ: 24,99\r\n");
  // ATQ0 takes effect before its own result code is issued.
  EXPECT_EQ(host.command("ATQ0"), "\r\nOK\r\n");
  EXPECT_EQ(host.command("AT"), "\r\nOK\r\n");
}

TEST_F(AtPort, ChainsCmeModesAndUnknownCommands) {
  host.command("ATE0");
  EXPECT_EQ(host.command("AT+COPS=3,0;+COPS?"),
            "\r\n+COPS: 0,0,\"vmodem Test Network\",8\r\n\r\nOK\r\n");
  EXPECT_EQ(host.command("AT+CSQ;+NOPE;+CSQ"), "\r\n+CSQ: 24,99\r\n\r\nERROR\r\n")
      << "a chain stops at its first error";
  EXPECT_EQ(host.command("AT+CPIN=\"1234\""), "\r\nERROR\r\n");
  host.command("AT+CMEE=1");
  EXPECT_EQ(host.command("AT+CPIN=\"1234\""), "\r\n+CME ERROR: 3\r\n");
  host.command("AT+CMEE=2");
  EXPECT_EQ(host.command("AT+CPIN=\"1234\""), "\r\n+CME ERROR: operation not allowed\r\n");
  EXPECT_EQ(host.command("at+gmi"), "\r\nQuectel\r\n\r\nOK\r\n") << "lower case works";
  host.write("AT+CSQ\r\n");  // some stacks send CR LF
  EXPECT_EQ(host.read_until("OK\r\n"), "\r\n+CSQ: 24,99\r\n\r\nOK\r\n");
  // The LF after CR is not a second command: the next answer is AT's alone.
  EXPECT_EQ(host.command("AT"), "\r\nOK\r\n");
}

TEST_F(AtPort, StartupProbeOfAGenericStack) {
  EXPECT_EQ(host.command("ATZ"), "ATZ\r\r\nOK\r\n");
  host.command("ATE0");
  for (const char* cmd :
       {"ATV1", "ATX4", "AT&C1", "AT+CMEE=1", "AT+CSCS=\"GSM\"", "AT+CREG=2", "AT+CGREG=2",
        "AT+CEREG=2", "AT+CTZR=1", "AT+CTZU=1", "AT+QURCCFG=\"urcport\",\"usbat\""}) {
    EXPECT_TRUE(host.command(cmd).ends_with("OK\r\n")) << cmd;
  }
  EXPECT_NE(host.command("AT+CGSN").find("86634904123456"), std::string::npos);
  EXPECT_NE(host.command("AT+CIMI").find("460011234567890"), std::string::npos);
  EXPECT_NE(host.command("AT+CGDCONT=?").find("IPV4V6"), std::string::npos);
  EXPECT_EQ(host.command("AT+CREG?"), "\r\n+CREG: 2,1,\"1A2B\",\"01A2D101\",8\r\n\r\nOK\r\n");
  EXPECT_EQ(host.command("AT+CFUN?"), "\r\n+CFUN: 1\r\n\r\nOK\r\n");
  EXPECT_NE(host.command("AT+CLAC").find("AT+QFUPL\r\n"), std::string::npos);
  EXPECT_EQ(host.command("AT+GCAP"), "\r\n+GCAP: +CGSM\r\n\r\nOK\r\n");
}

TEST_F(AtPort, GarbageAndOverlongLinesGetErrorAndTheModuleKeepsServing) {
  host.command("ATE0");
  host.write(std::string("AT\0\x01\xff+X\r", 9));
  EXPECT_NE(host.read_until("ERROR\r\n").find("ERROR"), std::string::npos);
  host.write("AT" + std::string(5000, 'A') + "\r");
  EXPECT_NE(host.read_until("ERROR\r\n").find("ERROR"), std::string::npos);
  EXPECT_EQ(host.command("AT"), "\r\nOK\r\n");
}

TEST_F(AtPort, SettingsSavedToNvSurviveAReset) {
  host.command("ATE0");
  EXPECT_EQ(host.command("AT+QCFG=\"fota/cid\",3"), "\r\nOK\r\n");
  EXPECT_EQ(host.command("AT+QICSGP=3,1,\"iot.apn\",\"\",\"\",0"), "\r\nOK\r\n");
  EXPECT_EQ(host.command("AT&W"), "\r\nOK\r\n");  // echo off is now the power-on setting
  host.command("AT+CFUN=1,1");
  ASSERT_TRUE(host.hung_up()) << "the USB port goes away on reset";
  Host again(daemon.port("ttyUSB2"));
  again.read_until_booted();
  EXPECT_EQ(again.command("AT+QCFG=\"fota/cid\""), "\r\n+QCFG: \"fota/cid\",3\r\n\r\nOK\r\n");
  EXPECT_EQ(again.command("AT+QICSGP=3"), "\r\n+QICSGP: 1,\"iot.apn\",\"\",\"\",0\r\n\r\nOK\r\n");
}

}  // namespace
}  // namespace vmodem::e2e
