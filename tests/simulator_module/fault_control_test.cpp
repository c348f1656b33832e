// Control that can be undone: armed fault rules are listed and removed; a
// cut armed for a power-on goes with it; an orderly reset or power-off is
// not a power cut.
#include <gtest/gtest.h>

#include "module_fixture.hpp"

namespace vmodem::sim::testing {
namespace {

class FaultControl : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(harness_.ok());
    harness_.power_on();
    ASSERT_TRUE(harness_.wait_power(PowerState::app_rdy));
  }
  Module& module() { return harness_.module(); }
  std::vector<nand::ArmedRule> faults() {
    return *harness_.on_io([this] { return module().faults(); });
  }
  std::uint64_t power_cuts() {
    return harness_.on_io([this] { return module().stats()->nand.counters.power_cuts; });
  }
  std::uint32_t arm(PowerCutRequest request) {
    const auto armed = harness_.on_io([&] { return module().power_cut(request); });
    EXPECT_TRUE(armed && armed->armed);
    return static_cast<std::uint32_t>(armed->rule);
  }

  ModuleHarness harness_{builtin()};
};

TEST_F(FaultControl, ArmedRulesAreListedAndDisarmedByIdOrAll) {
  const auto first = arm({.when = PowerCutRequest::When::after_operations, .operations = 500000});
  const auto second = arm({.when = PowerCutRequest::When::partition_operation,
                           .operations = 3,
                           .partition = "usrfs",
                           .op_kinds = 0b100});
  auto listed = faults();
  ASSERT_EQ(listed.size(), 2U);
  EXPECT_EQ(listed[0].id, first);
  EXPECT_EQ(listed[1].id, second);
  EXPECT_EQ(listed[1].rule.partition, "usrfs");
  EXPECT_EQ(listed[1].rule.n, 3U);

  const auto missing = harness_.on_io([this] { return module().disarm(9999); });
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().error_class, "InvalidParameter");
  const auto one = harness_.on_io([&] { return module().disarm(first); });
  ASSERT_TRUE(one);
  EXPECT_EQ(*one, std::vector<std::uint32_t>{first});
  ASSERT_EQ(faults().size(), 1U);
  const auto all = harness_.on_io([this] { return module().disarm(std::nullopt); });
  ASSERT_TRUE(all);
  EXPECT_EQ(*all, std::vector<std::uint32_t>{second});
  EXPECT_TRUE(faults().empty());
}

// A count-down cut belongs to the power-on it was armed in: a reset drops
// it unfired (it never strikes the next boot), and the reset itself is an
// orderly shutdown, not a power cut.
TEST_F(FaultControl, AResetDropsCountDownCutsAndIsNoPowerCut) {
  arm({.when = PowerCutRequest::When::random_window,
       .window_first = 400000,
       .window_last = 500000,
       .seed = 5});
  ASSERT_EQ(faults().size(), 1U);
  const auto cuts = power_cuts();
  harness_.clear_events();
  ASSERT_TRUE(harness_.on_io([this] { return module().reset(); }));
  ASSERT_TRUE(harness_.wait_power_event({PowerState::app_rdy}));
  EXPECT_TRUE(faults().empty());
  EXPECT_EQ(power_cuts(), cuts);
  ASSERT_TRUE(harness_.on_io([this] { return module().power_cut(PowerCutRequest{}); }));
  EXPECT_EQ(power_cuts(), cuts + 1) << "a real cut still counts";
}

// Once a reset or a power-down is under way (AT+CFUN=1,1, AT+QPOWD, the
// reset after AT+QFOTADL's download) nothing else runs: every command in
// that window answers ERROR.
TEST_F(FaultControl, NothingButTheResetRunsOnceItIsUnderWay) {
  ModuleTerminal terminal(harness_);
  harness_.clear_events();
  // One feed: both lines run before the reset's timer can fire.
  EXPECT_EQ(terminal.at("AT+CFUN=1,1\rAT+CGMR"), "\r\nOK\r\n\r\nERROR\r\n");
  ASSERT_TRUE(harness_.wait_power_event({PowerState::app_rdy}));
  terminal.drop();
  EXPECT_NE(terminal.at("AT+CGMR").find("OK"), std::string::npos) << "the new boot answers";
  EXPECT_EQ(terminal.at("AT+QPOWD=1\rAT+CGMR"), "\r\nOK\r\n\r\nERROR\r\n");
}

// Event listeners (the control socket's subscribers, a campaign's driver)
// may come and go while an event is being handed out: one that leaves is
// not called again, one that arrives hears the next event, not this one.
TEST_F(FaultControl, ListenersMaySubscribeAndUnsubscribeWhileHearingAnEvent) {
  std::vector<std::string> heard;
  std::uint64_t leaving = 0, arrived = 0;
  auto text = [](const nlohmann::json& e) { return e["data"].value("text", std::string()); };
  harness_.on_io([&] {
    leaving = module().subscribe([&](const nlohmann::json& e) {
      if (e["event"] != "URC") return;
      heard.push_back("leaving " + text(e));
      module().unsubscribe(leaving);  // while this very listener runs
      arrived = module().subscribe([&](const nlohmann::json& later) {
        if (later["event"] == "URC") heard.push_back("arrived " + text(later));
      });
      module().emit("URC", {{"port", "at"}, {"text", "nested"}});
      heard.push_back("still running after " + text(e));
    });
    module().send_urc("one");
    module().send_urc("two");
    module().unsubscribe(arrived);
    module().send_urc("three");
    return 0;
  });
  EXPECT_EQ(heard, (std::vector<std::string>{"leaving one", "arrived nested",
                                             "still running after one", "arrived two"}));
}

}  // namespace
}  // namespace vmodem::sim::testing
