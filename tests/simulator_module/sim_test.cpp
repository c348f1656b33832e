// The SIM in a whole module: its lock kept in NV across a reset, the boot
// URCs as the card makes them, the gate of the commands that read it, and
// the slot emptied and filled through the control interface.
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "module_fixture.hpp"

namespace vmodem::sim::testing {
namespace {

class ModuleSim : public ::testing::Test {
 protected:
  void boot() {
    ASSERT_TRUE(harness_.ok());
    harness_.power_on();
    ASSERT_TRUE(harness_.wait_power(PowerState::app_rdy));
  }
  void reset_and_wait() {
    harness_.clear_events();
    harness_.on_io([this] { return harness_.module().reset(); });
    ASSERT_TRUE(harness_.wait_power_event({PowerState::app_rdy}));
  }
  // See ModuleTerminal.
  std::string at(const std::string& line) { return terminal_.at(line); }
  std::string sim_state() {
    return harness_.on_io([this] { return harness_.module().status()->sim; });
  }
  bool saw(const std::string& urc) {
    const auto urcs = harness_.urcs();
    return std::find(urcs.begin(), urcs.end(), urc) != urcs.end();
  }

  ModuleHarness harness_{builtin()};
  ModuleTerminal terminal_{harness_};
};

TEST_F(ModuleSim, TheLockIsKeptAcrossAResetAndTheBootAsksForThePin) {
  boot();
  EXPECT_TRUE(saw("+CPIN: READY"));
  EXPECT_TRUE(saw("+QUSIM: 1"));
  EXPECT_EQ(sim_state(), "ready");
  EXPECT_EQ(at("AT+CLCK=\"SC\",1,\"1234\""), "\r\nOK\r\n");
  reset_and_wait();
  // The boot's SIM URCs wait for the PIN.
  EXPECT_TRUE(saw("+CPIN: SIM PIN"));
  EXPECT_FALSE(saw("+CPIN: READY"));
  EXPECT_FALSE(saw("+QUSIM: 1"));
  EXPECT_FALSE(saw("+QIND: PB DONE"));
  EXPECT_EQ(sim_state(), "pin_required");
  EXPECT_EQ(at("AT+CPIN?"), "\r\n+CPIN: SIM PIN\r\n\r\nOK\r\n");
  EXPECT_EQ(at("AT+CIMI"), "\r\n+CME ERROR: 11\r\n");
  EXPECT_EQ(at("AT+CEREG?"), "\r\n+CEREG: 0,0\r\n\r\nOK\r\n");
  EXPECT_EQ(at("AT+QIACT=1"), "\r\n+CME ERROR: 550\r\n") << "no network without the SIM";
  EXPECT_EQ(at("AT+CPIN=\"1234\""), "\r\nOK\r\n");
  // Sent by the handler itself (UrcSink, on the module's thread).
  EXPECT_TRUE(saw("+CPIN: READY"));
  EXPECT_TRUE(saw("+QIND: PB DONE"));
  EXPECT_EQ(at("AT+CIMI"), "\r\n460011234567890\r\n\r\nOK\r\n");
  EXPECT_EQ(at("AT+CEREG?"), "\r\n+CEREG: 0,1\r\n\r\nOK\r\n");
  // Unlocked again: the next boot is ready at once.
  EXPECT_EQ(at("AT+CLCK=\"SC\",0,\"1234\""), "\r\nOK\r\n");
  reset_and_wait();
  EXPECT_TRUE(saw("+CPIN: READY"));
  EXPECT_EQ(sim_state(), "ready");
}

TEST_F(ModuleSim, RemovalDropsRegistrationAndContextsAndInsertionBringsThemBack) {
  boot();
  EXPECT_EQ(at("AT+CEREG=1"), "\r\nOK\r\n");
  EXPECT_EQ(at("AT+QIACT=1"), "\r\nOK\r\n");
  harness_.clear_events();
  const auto removed = harness_.on_io([this] { return harness_.module().sim_remove(); });
  ASSERT_TRUE(removed);
  EXPECT_EQ(removed->state, "absent");
  EXPECT_TRUE(removed->changed);
  EXPECT_EQ(harness_.urcs(), (std::vector<std::string>{"+CPIN: NOT READY", "+CEREG: 0"}));
  EXPECT_EQ(at("AT+QIACT?"), "\r\nOK\r\n") << "the context went with the registration";
  EXPECT_EQ(at("AT+CPIN?"), "\r\n+CME ERROR: 10\r\n");
  EXPECT_EQ(at("AT+QCCID"), "\r\n+CME ERROR: 10\r\n");

  // The slot stays empty across a reset.
  reset_and_wait();
  EXPECT_TRUE(saw("+CPIN: NOT READY"));
  EXPECT_FALSE(saw("+QUSIM: 1"));
  EXPECT_EQ(sim_state(), "absent");

  harness_.clear_events();
  (void)at("AT+CEREG=1");
  const auto inserted = harness_.on_io([this] { return harness_.module().sim_insert(false); });
  ASSERT_TRUE(inserted);
  EXPECT_EQ(inserted->state, "ready");
  const auto urcs = harness_.urcs();
  ASSERT_FALSE(urcs.empty());
  EXPECT_EQ(urcs.front(), "+CPIN: READY");
  EXPECT_EQ(urcs.back(), "+CEREG: 1");
  EXPECT_EQ(at("AT+QIACT=1"), "\r\nOK\r\n");
}

}  // namespace
}  // namespace vmodem::sim::testing
