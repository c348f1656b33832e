// The 27.005 SMS commands in a whole module: what a host sends and reads
// through the AT engine, what the network delivers through the control
// interface, and the store across a reset.
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include <vmodem/at/engine.hpp>

#include "module_fixture.hpp"

namespace vmodem::sim::testing {
namespace {

class ModuleSms : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(harness_.ok());
    harness_.power_on();
    ASSERT_TRUE(harness_.wait_power(PowerState::app_rdy));
  }
  void reset_and_wait() {
    harness_.clear_events();  // the boot's events come before reset() returns
    harness_.on_io([this] {
      engine_.reset();
      return harness_.module().reset();
    });
    ASSERT_TRUE(harness_.wait_power_event({PowerState::app_rdy}));
  }
  // Bytes through an engine of the module's registry, on the module's
  // thread; what it answered.
  std::string feed(const std::string& bytes) {
    return harness_.on_io([&] {
      if (!engine_) {
        engine_ = std::make_unique<at::Engine>(harness_.module().registry(), at::EngineConfig{});
        engine_->settings().echo = false;
      }
      (void)engine_->feed(bytes);
      return engine_->take_output();
    });
  }
  std::string at(const std::string& line) { return feed(line + "\r"); }
  Controlled<SmsDelivered> deliver(const std::string& from, const std::string& text) {
    return harness_.on_io(
        [&] { return harness_.module().sms_deliver({.from = from, .text = text, .pdu = {}}); });
  }
  bool saw(const std::string& urc) {
    const auto urcs = harness_.urcs();
    return std::find(urcs.begin(), urcs.end(), urc) != urcs.end();
  }

  ModuleHarness harness_{builtin()};
  std::unique_ptr<at::Engine> engine_;  // used and destroyed on the module's thread only
};

TEST_F(ModuleSms, TextModeSendPromptsAndCtrlZSends) {
  EXPECT_EQ(at("AT+CMGF?"), "\r\n+CMGF: 0\r\n\r\nOK\r\n") << "PDU mode by default";
  EXPECT_EQ(at("AT+CMGF=1"), "\r\nOK\r\n");
  EXPECT_EQ(at("AT+CMGS=\"+4917012345\""), "\r\n> ");
  EXPECT_EQ(feed("Hello, world\x1a"), "\r\n+CMGS: 0\r\n\r\nOK\r\n");
  const auto sent = harness_.named("SMS_SENT");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0]["to"], "+4917012345");
  EXPECT_EQ(sent[0]["text"], "Hello, world");
  EXPECT_EQ(sent[0]["mr"], 0);
  // ESC: nothing goes out.
  EXPECT_EQ(at("AT+CMGS=\"123\""), "\r\n> ");
  EXPECT_EQ(feed("never\x1b"), "\r\nOK\r\n");
  EXPECT_EQ(harness_.named("SMS_SENT").size(), 1u);
  const auto outbox = harness_.on_io([this] { return harness_.module().sms_outbox(true); });
  ASSERT_TRUE(outbox);
  ASSERT_EQ(outbox->size(), 1u);
  EXPECT_EQ((*outbox)[0].text, "Hello, world");
  EXPECT_TRUE(harness_.on_io([this] { return harness_.module().sms_outbox(false); })->empty());
  EXPECT_EQ(at("AT+CMGS=\"12x\""), "\r\n+CMS ERROR: 305\r\n");
  // Bytes that are not UTF-8 are read as Latin-1; what the default alphabet
  // lacks becomes '?'. The event's text is always UTF-8.
  EXPECT_EQ(at("AT+CMGS=\"+1\""), "\r\n> ");
  EXPECT_EQ(feed("caf\xe9 \xfe\x1a"), "\r\n+CMGS: 1\r\n\r\nOK\r\n");
  EXPECT_EQ(harness_.named("SMS_SENT").back()["text"], "caf\u00e9 ?");
}

TEST_F(ModuleSms, PduModeSendChecksTheLength) {
  EXPECT_EQ(at("AT+CMGS=23"), "\r\n> ");
  EXPECT_EQ(feed("0011000B916407281553F80000AA0AE8329BFD4697D9EC37\x1a"),
            "\r\n+CMGS: 0\r\n\r\nOK\r\n");
  const auto sent = harness_.named("SMS_SENT");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0]["to"], "+46708251358");
  EXPECT_EQ(sent[0]["text"], "hellohello");
  EXPECT_EQ(sent[0]["alphabet"], "gsm7");
  EXPECT_EQ(at("AT+CMGS=22"), "\r\n> ");
  EXPECT_EQ(feed("0011000B916407281553F80000AA0AE8329BFD4697D9EC37\x1a"), "\r\n+CMS ERROR: 304\r\n")
      << "the length does not match the TPDU";
  EXPECT_EQ(at("AT+CMGS=23"), "\r\n> ");
  EXPECT_EQ(feed("zz\x1a"), "\r\n+CMS ERROR: 304\r\n");
}

TEST_F(ModuleSms, ADeliveredMessageIsAnnouncedStoredAndRead) {
  EXPECT_EQ(at("AT+CNMI?"), "\r\n+CNMI: 2,1,0,0,0\r\n\r\nOK\r\n");
  const auto where = deliver("+4917012345", "Hi there");
  ASSERT_TRUE(where) << where.error().desc;
  EXPECT_EQ(where->storage, "SM");
  EXPECT_EQ(where->index, 0);
  EXPECT_TRUE(saw("+CMTI: \"SM\",0"));
  EXPECT_EQ(at("AT+CPMS?"), "\r\n+CPMS: \"SM\",1,50,\"SM\",1,50,\"SM\",1,50\r\n\r\nOK\r\n");
  EXPECT_EQ(at("AT+CMGF=1"), "\r\nOK\r\n");
  const std::string read = at("AT+CMGR=0");
  EXPECT_TRUE(read.starts_with("\r\n+CMGR: \"REC UNREAD\",\"+4917012345\",,\"")) << read;
  EXPECT_TRUE(read.ends_with("\"\r\nHi there\r\n\r\nOK\r\n")) << read;
  EXPECT_TRUE(at("AT+CMGR=0").starts_with("\r\n+CMGR: \"REC READ\"")) << "read once";
  EXPECT_EQ(at("AT+CMGL"), "\r\nOK\r\n") << "no unread message left";
  EXPECT_TRUE(at("AT+CMGL=\"ALL\"").starts_with("\r\n+CMGL: 0,\"REC READ\",\"+4917012345\",,\""));
  EXPECT_EQ(at("AT+CMGF=0"), "\r\nOK\r\n");
  const std::string pdu = at("AT+CMGL=4");
  EXPECT_TRUE(pdu.starts_with("\r\n+CMGL: 0,1,,")) << pdu;
  EXPECT_EQ(at("AT+CMGR=1"), "\r\n+CMS ERROR: 321\r\n") << "empty";
  EXPECT_EQ(at("AT+CMGR=50"), "\r\n+CMS ERROR: 321\r\n") << "beyond SM";
  EXPECT_EQ(at("AT+CMGD=0"), "\r\nOK\r\n");
  EXPECT_EQ(at("AT+CMGR=0"), "\r\n+CMS ERROR: 321\r\n");
}

TEST_F(ModuleSms, CnmiTwoHandsTheMessageOverWithoutStoringIt) {
  EXPECT_EQ(at("AT+CNMI=2,2,0,0,0"), "\r\nOK\r\n");
  const auto where = deliver("+4917012345", "direct");
  ASSERT_TRUE(where);
  EXPECT_TRUE(where->direct);
  const auto urcs = harness_.urcs();
  ASSERT_FALSE(urcs.empty());
  EXPECT_TRUE(urcs.back().starts_with("+CMT: ,")) << urcs.back();
  EXPECT_EQ(at("AT+CPMS?"), "\r\n+CPMS: \"SM\",0,50,\"SM\",0,50,\"SM\",0,50\r\n\r\nOK\r\n");
  EXPECT_EQ(at("AT+CNMI=3"), "\r\n+CMS ERROR: 302\r\n");
}

TEST_F(ModuleSms, StoredMessagesSurviveAReset) {
  ASSERT_TRUE(deliver("+4917012345", "kept"));
  EXPECT_EQ(at("AT+CPMS=\"ME\",\"ME\",\"ME\""), "\r\n+CPMS: 0,255,0,255,0,255\r\n\r\nOK\r\n");
  EXPECT_EQ(at("AT+CMGF=1"), "\r\nOK\r\n");
  EXPECT_EQ(at("AT+CMGW=\"+123\""), "\r\n> ");
  EXPECT_EQ(feed("draft\x1a"), "\r\n+CMGW: 0\r\n\r\nOK\r\n");
  reset_and_wait();
  EXPECT_EQ(at("AT+CPMS?"), "\r\n+CPMS: \"ME\",1,255,\"ME\",1,255,\"ME\",1,255\r\n\r\nOK\r\n");
  EXPECT_EQ(at("AT+CMGF?"), "\r\n+CMGF: 0\r\n\r\nOK\r\n") << "back to its default";
  EXPECT_EQ(at("AT+CMSS=0"), "\r\n+CMSS: 0\r\n\r\nOK\r\n");
  ASSERT_EQ(harness_.named("SMS_SENT").size(), 1u);
  EXPECT_EQ(harness_.named("SMS_SENT")[0]["text"], "draft");
  EXPECT_EQ(at("AT+CMGL=3"), at("AT+CMGL=4")) << "sent now";
  EXPECT_EQ(at("AT+CPMS=\"SM\""), "\r\n+CPMS: 1,50,1,255,1,255\r\n\r\nOK\r\n");
  EXPECT_TRUE(at("AT+CMGR=0").starts_with("\r\n+CMGR: 0,,")) << "SM's message kept";
  EXPECT_EQ(at("AT+CMGD=0,4"), "\r\nOK\r\n");
  EXPECT_EQ(at("AT+CPMS?"), "\r\n+CPMS: \"SM\",0,50,\"ME\",1,255,\"ME\",1,255\r\n\r\nOK\r\n");
}

TEST_F(ModuleSms, AFullStorageRefusesTheNetwork) {
  for (int i = 0; i < 50; ++i)
    ASSERT_TRUE(deliver("+4917012345", "n" + std::to_string(i))) << i;
  const auto refused = deliver("+4917012345", "one too many");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().error_class, "InvalidParameter");
  EXPECT_NE(refused.error().desc.find("full"), std::string::npos);
  EXPECT_EQ(at("AT+CMGF=1"), "\r\nOK\r\n");
  EXPECT_EQ(at("AT+CPMS=\"SM\",\"SM\",\"SM\""), "\r\n+CPMS: 50,50,50,50,50,50\r\n\r\nOK\r\n");
  EXPECT_EQ(at("AT+CMGW=\"+1\""), "\r\n+CMS ERROR: 322\r\n");
}

TEST_F(ModuleSms, TheNetworkSideRefusesBadInput) {
  auto bad = [this](SmsDeliverRequest r) {
    const auto out = harness_.on_io([&] { return harness_.module().sms_deliver(r); });
    return out ? std::string("accepted") : out.error().error_class;
  };
  EXPECT_EQ(bad({.from = "+1", .text = {}, .pdu = {}}), "InvalidParameter");
  EXPECT_EQ(bad({.from = "+1", .text = "a", .pdu = "00"}), "InvalidParameter");
  EXPECT_EQ(bad({.from = "not a ~ sender!", .text = "a", .pdu = {}}), "InvalidParameter");
  EXPECT_EQ(bad({.from = "+1", .text = std::string(161, 'a'), .pdu = {}}), "InvalidParameter");
  EXPECT_EQ(bad({.from = "", .text = {}, .pdu = "zz"}), "InvalidParameter");
  EXPECT_EQ(bad({.from = "", .text = {}, .pdu = "0011000B91"}), "InvalidParameter");
  EXPECT_EQ(bad({.from = "",
                 .text = {},
                 .pdu = "040BC87238880900F10000993092516195800AE8329BFD4697D9EC37"}),
            "accepted");
  EXPECT_EQ(bad({.from = "Bank", .text = std::string(160, 'a'), .pdu = {}}), "accepted");
}

TEST_F(ModuleSms, SmsNeedsTheSimAndSendingNeedsTheNetwork) {
  EXPECT_EQ(at("AT+CMGF=1"), "\r\nOK\r\n");
  harness_.on_io([this] { return harness_.module().network({.coverage = false}); });
  EXPECT_EQ(at("AT+CMGS=\"+1\""), "\r\n+CMS ERROR: 331\r\n");
  EXPECT_FALSE(deliver("+1", "x")) << "no network, no delivery";
  harness_.on_io([this] { return harness_.module().network({.coverage = true}); });
  harness_.on_io([this] { return harness_.module().sim_remove(); });
  EXPECT_EQ(at("AT+CPMS?"), "\r\n+CMS ERROR: 310\r\n");
  EXPECT_EQ(at("AT+CMGL"), "\r\n+CMS ERROR: 310\r\n");
  EXPECT_EQ(at("AT+CMGS=?"), "\r\nOK\r\n") << "test forms answer without a card";
}

// The store's file is hostile input (a host can write it through a FUSE
// mount): what does not validate is dropped and reported, the rest loads.
TEST_F(ModuleSms, ADamagedStoreFileLoadsWhatValidates) {
  ASSERT_TRUE(deliver("+4917012345", "good"));
  const std::string read = at("AT+CMGR=0");  // "\r\n+CMGR: 0,,NN\r\n<pdu>\r\n\r\nOK\r\n"
  const auto start = read.find('\n', 2) + 1;
  const std::string good = read.substr(start, read.find('\r', start) - start);
  const std::string doc =
      R"({"cpms":["ME","XX","SM"],"csca":{"number":"+49\u0000","toa":145},"SM":{"3":{"stat":1,"pdu":")" +
      good + R"("},"4":{"stat":1,"pdu":"zz"},"99":{"stat":1,"pdu":")" + good +
      R"("},"x":[],"5":{"stat":2,"pdu":")" + good + R"("}},"ME":[]})";
  const bool written = harness_.on_io([&] {
    auto* fs = harness_.module().modem_fs();
    return fs->lock()
        ->write_file("/nv/vmodem/sms.json",
                     {reinterpret_cast<const std::uint8_t*>(doc.data()), doc.size()})
        .has_value();
  });
  ASSERT_TRUE(written);
  reset_and_wait();
  const auto problems = harness_.named("NV_SETTING_INVALID");
  std::string seen;
  for (const auto& p : problems)
    seen += p.dump() + "\n";
  EXPECT_EQ(problems.size(), 7u) << "cpms, csca, SM.4, SM.99, SM.x, SM.5 (a DELIVER as STO), ME:\n"
                                 << seen << good;
  EXPECT_EQ(at("AT+CPMS?"), "\r\n+CPMS: \"SM\",1,50,\"SM\",1,50,\"SM\",1,50\r\n\r\nOK\r\n");
  EXPECT_TRUE(at("AT+CMGR=3").starts_with("\r\n+CMGR: 1,,")) << "the valid entry kept";
  EXPECT_EQ(at("AT+CSCA?"), "\r\n+CSCA: \"+4915550000000\",145\r\n\r\nOK\r\n");
}

TEST(ModuleSmsProfile, TheCardsServiceCentreIsAtCscasDefault) {
  Profile profile = builtin();
  profile.sim.smsc = "+447700900123";
  ModuleHarness harness(std::move(profile));
  ASSERT_TRUE(harness.ok());
  harness.power_on();
  ASSERT_TRUE(harness.wait_power(PowerState::app_rdy));
  const std::string answer = harness.on_io([&] {
    at::Engine engine(harness.module().registry(), at::EngineConfig{});
    engine.settings().echo = false;
    (void)engine.feed("AT+CSCA?\r");
    return engine.take_output();
  });
  EXPECT_EQ(answer, "\r\n+CSCA: \"+447700900123\",145\r\n\r\nOK\r\n");
}

}  // namespace
}  // namespace vmodem::sim::testing
