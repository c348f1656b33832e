// SMS with a real client: Debian's gammu, unmodified, over the module's AT
// port (ttyUSB2) of the real binary — identify, read what `vmodem ctl
// sms-deliver` brought, send (SMS_SENT event, ctl sms-outbox), delete; the
// stored messages across a daemon restart.
#include <fstream>

#include <gtest/gtest.h>

#include "e2e_support.hpp"
#include "process.hpp"

namespace vmodem::e2e {
namespace {

constexpr const char* kGammu = "/usr/bin/gammu";

using GammuRun = vmodem::testing::ProcessOutcome;

// gammu with a configuration of its own for the module's AT port.
class Gammu {
 public:
  explicit Gammu(const Daemon& daemon) : rc_(dir_ / "gammurc") {
    std::ofstream(rc_) << "[gammu]\ndevice = " << daemon.port("ttyUSB2").string()
                       << "\nconnection = at\n";
  }
  GammuRun operator()(const std::string& args) const {
    return vmodem::testing::run_shell("timeout 60 " + std::string(kGammu) + " -c " + rc_.string() +
                                      " " + args + " 2>&1");
  }

 private:
  vmodem::testing::TempDir dir_;
  std::filesystem::path rc_;
};

TEST(SmsE2e, GammuReadsSendsAndDeletesMessages) {
  if (!std::filesystem::exists(kGammu)) GTEST_SKIP() << kGammu << " is not installed";
  Daemon daemon;
  ASSERT_TRUE(daemon.wait_booted());
  Control control(daemon.state() / "control.sock");
  ASSERT_TRUE(control.connected());
  control.execute("subscribe", {{"events", {"SMS_SENT"}}});
  const Gammu gammu(daemon);

  const GammuRun identify = gammu("identify");
  EXPECT_EQ(identify.exit_code, 0) << identify.out;
  EXPECT_NE(identify.out.find("Quectel"), std::string::npos) << identify.out;

  const auto delivered =
      daemon.ctl("sms-deliver --from +4917012345 --text 'Hello from the network'");
  EXPECT_EQ(delivered["storage"], "SM") << delivered.dump();
  EXPECT_EQ(delivered["index"], 0);
  const auto unicode = daemon.ctl("sms-deliver --from Bank --text 'Grüße, Привет'");
  EXPECT_EQ(unicode["index"], 1) << unicode.dump();

  const GammuRun all = gammu("getallsms");
  EXPECT_EQ(all.exit_code, 0) << all.out;
  EXPECT_NE(all.out.find("Hello from the network"), std::string::npos) << all.out;
  EXPECT_NE(all.out.find("\"+4917012345\""), std::string::npos) << all.out;
  EXPECT_NE(all.out.find("Grüße, Привет"), std::string::npos) << all.out;
  EXPECT_NE(all.out.find("2 SMS parts in 2 SMS sequences"), std::string::npos) << all.out;

  const GammuRun send = gammu("sendsms TEXT +123456 -text 'hi from gammu'");
  EXPECT_EQ(send.exit_code, 0) << send.out;
  EXPECT_NE(send.out.find("OK, message reference=0"), std::string::npos) << send.out;
  EXPECT_TRUE(control.wait_event("SMS_SENT", "to", "+123456"));
  const auto sent = control.named("SMS_SENT");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0]["data"]["text"], "hi from gammu");
  const auto outbox = daemon.ctl("sms-outbox --clear");
  ASSERT_EQ(outbox["messages"].size(), 1u) << outbox.dump();
  EXPECT_EQ(outbox["messages"][0]["to"], "+123456");
  EXPECT_EQ(outbox["messages"][0]["text"], "hi from gammu");
  EXPECT_EQ(daemon.ctl("sms-outbox")["messages"].size(), 0u) << "cleared";

  const GammuRun erase = gammu("deleteallsms 1");
  EXPECT_EQ(erase.exit_code, 0) << erase.out;
  const GammuRun none = gammu("getallsms");
  EXPECT_NE(none.out.find("0 SMS parts in 0 SMS sequences"), std::string::npos) << none.out;
}

TEST(SmsE2e, StoredMessagesSurviveARestartAndBadInputIsRefused) {
  Daemon daemon;
  ASSERT_TRUE(daemon.wait_booted());
  EXPECT_EQ(daemon.ctl("sms-deliver --from +4917012345 --text kept")["index"], 0);
  const auto hostile = daemon.ctl("sms-deliver --from +1 --pdu 0011");
  EXPECT_TRUE(hostile.contains("error")) << hostile.dump();
  const auto both = daemon.ctl("sms-deliver --from +1 --text a --pdu 00");
  EXPECT_TRUE(both.contains("error")) << both.dump();
  EXPECT_EQ(daemon.stop(), 0);
  daemon.start();
  ASSERT_TRUE(daemon.wait_booted());
  Host host(daemon.port("ttyUSB2"));
  host.command("ATE0");
  EXPECT_EQ(host.command("AT+CPMS?"),
            "\r\n+CPMS: \"SM\",1,50,\"SM\",1,50,\"SM\",1,50\r\n\r\nOK\r\n");
  EXPECT_EQ(host.command("AT+CMGF=1"), "\r\nOK\r\n");
  const std::string read = host.command("AT+CMGR=0");
  EXPECT_NE(read.find("\"REC UNREAD\",\"+4917012345\""), std::string::npos) << read;
  EXPECT_NE(read.find("\r\nkept\r\n"), std::string::npos) << read;
  EXPECT_EQ(daemon.ctl("sms-deliver --from +4917012345 --text again")["index"], 1);
  EXPECT_NE(host.read_until("+CMTI: \"SM\",1\r\n").find("+CMTI: \"SM\",1"), std::string::npos);
}

}  // namespace
}  // namespace vmodem::e2e
